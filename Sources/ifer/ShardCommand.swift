import ArgumentParser
import Foundation
import IFERTrain

/// `ifer shard`: decode a dataset once into HDF5 shards plus manifest.json (DESIGN section 7).
/// Run it under `mpirun -np N` to decode on N processes; rank 0 scans and writes the manifest.
struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Shard a dataset into HDF5 files (run under mpirun).",
        discussion: """
        Layouts: ffhq (images1024x1024/ PNG tree), celebahq (CelebA-HQ-img/ + mapping + \
        list_eval_partition.txt), affectnet (Manually_Annotated_Images/ + training.csv / validation.csv), \
        rafdb (basic/EmoLabel/list_patition_label.txt + Image/aligned), sfew (Train|Val/<Class>/), \
        folder (any folder of PNG/JPEG). See docs/data.md and docs/datasets.md. A second run with the \
        same arguments keeps shards that are complete and valid.
        """)

    @Option(help: "Layout: ffhq, celebahq, affectnet, rafdb, sfew or folder.") var dataset: String
    @Option(help: "Dataset root folder.") var root: String
    @Option(help: "Output folder for the shards and manifest.json.") var out: String
    @Option(help: "Output side in pixels (images are square).") var resolution: Int = 256
    @Option(help: "train, test, val (CelebA-HQ) or all.") var split: String = "all"
    @Option(help: "AffectNet classes: 7 or 8.") var classes: Int = 7
    @Option(name: .customLong("shard-size-mb"), help: "Target shard size in MiB.") var shardSizeMB: Double = 256
    @Flag(name: .customLong("allow-upscale"), help: "Keep sources smaller than the resolution (up-scaled) instead of skipping them.")
    var allowUpscale = false
    @Option(name: .customLong("rafdb-images"), help: "RAF-DB images: aligned or original (default: aligned when present).")
    var rafdbImages: String?
    @Flag(help: "Print one JSON line with the summary (rank 0).") var json = false

    func options() throws -> ShardOptions {
        guard let kind = DatasetKind(rawValue: dataset.lowercased()) else {
            throw ValidationError("--dataset \(dataset) is not one of \(DatasetKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard classes == 7 || classes == 8 else { throw ValidationError("--classes must be 7 or 8, got \(classes)") }
        var aligned: Bool? = nil
        if let r = rafdbImages {
            guard r == "aligned" || r == "original" else { throw ValidationError("--rafdb-images must be aligned or original, got \(r)") }
            aligned = r == "aligned"
        }
        return ShardOptions(dataset: kind, root: root, out: out, resolution: resolution,
                            splits: split == "all" ? nil : [split], affectNetClasses: classes,
                            shardSizeMB: shardSizeMB, allowUpscale: allowUpscale, rafdbAligned: aligned)
    }

    func run() throws {
        let o = try options()
        try withCommunicator { comm in
            let start = MonotonicClock.now()
            let quiet = json
            let s = try ShardCoordinator.run(o, comm: comm) { line in
                if !quiet { FileHandle.standardError.write(Data(("ifer shard: " + line + "\n").utf8)) }
            }
            let elapsed = MonotonicClock.now() - start
            let images = try comm.allGather([Int64(s.images), Int64(s.written), Int64(s.reused)])
            guard comm.isRoot, let m = s.manifest else { return }
            let decoded = stride(from: 0, to: images.count, by: 3).reduce(0) { $0 + Int(images[$1]) }
            let written = stride(from: 1, to: images.count, by: 3).reduce(0) { $0 + Int(images[$1]) }
            let reused = stride(from: 2, to: images.count, by: 3).reduce(0) { $0 + Int(images[$1]) }
            let total = m.counts.values.reduce(0, +)
            if json {
                let line: [String: Any] = [
                    "dataset": m.dataset, "resolution": m.resolution, "ranks": comm.worldSize,
                    "shards": m.shards.count, "written": written, "reused": reused, "images": total,
                    "decoded": decoded, "skipped": m.skipped.count, "seconds": elapsed,
                    "images_per_s": elapsed > 0 ? Double(decoded) / elapsed : 0,
                    "manifest": o.out + "/manifest.json",
                ]
                let d = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                print(String(decoding: d, as: UTF8.self))
            } else {
                let splits = m.counts.keys.sorted().map { "\($0) \(m.counts[$0]!)" }.joined(separator: ", ")
                print("ifer shard: \(m.shards.count) shards with images (\(written) written now, \(reused) kept from an earlier run), "
                      + "\(total) images (\(splits)), \(m.skipped.count) sources skipped, \(String(format: "%.1f", elapsed)) s; "
                      + "manifest: \(o.out)/manifest.json")
            }
        }
    }
}
