import ArgumentParser
import Foundation
import IFERIO
import IFERTrain

/// `ifer bench loader`: images/s the loader delivers (read from shards, augment, normalise, with
/// background prefetch) for 32 px and 256 px shards. The shards are made first from generated
/// images in a scratch folder (or use --shards for existing ones).
struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loader", abstract: "Benchmark: loader images/s at 32 and 256 px.")

    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false
    @Option(help: "Images per generated dataset.") var images = 128
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Seconds to measure each case.") var seconds = 2.0
    @Option(help: "Shard resolutions to measure (comma separated).") var resolutions = "32,256"
    @Option(help: "Existing shard folder to measure instead (its train split).") var shards: String?
    @Option(help: "Scratch directory (removed afterwards).") var dir: String?

    func run() throws {
        guard batch >= 1, images >= batch, seconds > 0 else { throw ValidationError("need --images >= --batch >= 1 and --seconds > 0") }
        let base = dir ?? NSTemporaryDirectory() + "ifer-bench-loader-\(getpid())"
        defer { if dir == nil && shards == nil { try? FileManager.default.removeItem(atPath: base) } }
        var cases: [(Int, String)] = []
        if let shards {
            cases = [(0, shards)]
        } else {
            for r in resolutions.split(separator: ",").compactMap({ Int($0) }) {
                let src = base + "/src\(r)", out = base + "/shards\(r)"
                try BenchImages.write(count: images, side: r, to: src)
                _ = try ShardCoordinator.run(ShardOptions(dataset: .folder, root: src, out: out, resolution: r, shardSizeMB: 64),
                                             comm: SingleProcess())
                cases.append((r, out))
            }
        }
        let augs: [(String, Augmentation)] = [("none", .none), ("flip", .inversion), ("crop+flip+erase", .classification)]
        for (_, path) in cases {
            for (name, aug) in augs {
                let loader = try Loader(path: path, split: "train", batchSize: batch, seed: 1, rank: 0, worldSize: 1,
                                        training: true, augmentation: aug, prefetch: 2)
                _ = try loader.next()  // warm-up: thread start, page cache
                var n = 0
                let t0 = Timing.now()
                while Timing.now() - t0 < seconds {
                    n += try loader.next().indices.count
                }
                let dt = Timing.now() - t0
                loader.stop()
                emitJSON(["bench": "loader", "resolution": loader.dataset.resolution, "augment": name, "batch": batch,
                          "prefetch": 2, "images": n, "seconds": dt, "images_per_s": Double(n) / dt,
                          "mb_per_s": Double(n * loader.dataset.imageBytes) / dt / 1e6])
            }
        }
    }
}

/// Generated benchmark sources: a smooth gradient with per-pixel noise, so PNG sizes are close
/// to photographs' (about 1 MB at 1024 px) instead of compressing to nothing.
enum BenchImages {
    static func write(count: Int, side: Int, to dir: String, first: Int = 0, every: Int = 1) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = Philox(seed: 42)
        for i in stride(from: first, to: count, by: every) {
            let path = dir + String(format: "/%05d.png", i)
            if FileManager.default.fileExists(atPath: path) { continue }
            var px = [UInt8](repeating: 0, count: side * side * 3)
            for y in 0..<side {
                for x in 0..<side {
                    let o = (y * side + x) * 3
                    let n = Int(rng.next() & 15) - 8
                    px[o] = UInt8(clamping: x * 255 / side + n)
                    px[o + 1] = UInt8(clamping: y * 255 / side + n + i)
                    px[o + 2] = UInt8(clamping: (x + y) * 127 / side + n)
                }
            }
            try writeFileBytes(try encodePNG(RGBImage(width: side, height: side, pixels: px)), path: path)
        }
    }
}
