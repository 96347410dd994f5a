import Foundation
import IFERIO

/// Writes one planned shard: decodes every source, crops and resamples it to resolution x
/// resolution, and stores images, labels, valence/arousal and source paths. Sources that cannot
/// be used are skipped with a reason, never fatal. The file is written under a temporary name,
/// fsynced and renamed, so a crash never leaves a half shard under the final name.
public struct ShardWriter {
    public let plan: ShardPlan
    public let root: String
    public let out: String
    let workspace = Resample.Workspace()

    public init(plan: ShardPlan, root: String, out: String) {
        self.plan = plan; self.root = root; self.out = out
    }

    /// True if `shard` exists from an earlier run with the same plan and still hashes to what its
    /// record says; returns that record.
    public func completeRecord(_ shard: PlannedShard) -> ShardRecord? {
        guard let rec = ShardRecord.load(out: out, file: shard.file), rec.planHash == shard.planHash,
              rec.file == shard.file else { return nil }
        if rec.count == 0 { return rec }
        guard let sha = try? SHA256.hexHash(file: out + "/" + shard.file), sha == rec.sha256 else { return nil }
        return rec
    }

    /// Decodes, crops and resamples one source to resolution^2 RGB bytes.
    public func prepare(_ item: SourceItem) -> Result<[UInt8], SkipReason> {
        let path = root + "/" + item.source
        let img: RGBImage
        do {
            img = try decodeImage(bytes: try readFileBytes(path), path: path)
        } catch let e as IOError {
            return .failure(SkipReason(e.message))
        } catch {
            return .failure(SkipReason("\(error)"))
        }
        let r = plan.resolution
        switch FaceCrop.window(width: img.width, height: img.height, box: item.box, resolution: r, allowUpscale: plan.allowUpscale) {
        case .failure(let why):
            return .failure(why)
        case .success(let window):
            let pixels = img.pixels.withUnsafeBufferPointer { p in
                Resample.resampleUInt8(p.baseAddress!, width: img.width, height: img.height, box: window, outWidth: r, outHeight: r,
                                       workspace: workspace)
            }
            return .success(pixels)
        }
    }

    /// Writes `shard` and its record; returns the record.
    public func write(_ shard: PlannedShard) throws -> ShardRecord {
        let r = plan.resolution
        let final = out + "/" + shard.file
        let tmp = final + ".tmp.\(getpid())"
        var labels: [Int16] = [], valence: [Float] = [], arousal: [Float] = [], sources: [String] = []
        var skipped: [SkippedSource] = []
        var classCounts = [Int](repeating: 0, count: plan.classNames.count)
        // Only AffectNet has valence and arousal.
        let hasAffect = plan.dataset == DatasetKind.affectnet.rawValue

        do {
            let file = try H5File(path: tmp, mode: .create)
            defer { file.close() }
            let images = try file.createDataset("/images", of: UInt8.self, shape: [0, r, r, 3], chunk: [1, r, r, 3], extendible: true)
            defer { images.close() }
            for item in shard.items {
                switch prepare(item) {
                case .failure(let why):
                    skipped.append(SkippedSource(source: item.source, reason: why.message))
                case .success(let pixels):
                    if item.label >= plan.classNames.count {
                        skipped.append(SkippedSource(source: item.source, reason: "label \(item.label) is out of range for \(plan.classNames.count) classes"))
                        continue
                    }
                    let n = labels.count
                    try images.resize(rows: n + 1)
                    try images.write(rows: pixels, at: n)
                    labels.append(Int16(item.label))
                    if item.label >= 0 { classCounts[item.label] += 1 }
                    valence.append(item.valence ?? .nan)
                    arousal.append(item.arousal ?? .nan)
                    sources.append(item.source)
                }
            }
            try file.write("/labels", labels, shape: [labels.count])
            if hasAffect {
                try file.write("/valence", valence, shape: [valence.count])
                try file.write("/arousal", arousal, shape: [arousal.count])
            }
            try file.writeStrings("/source", sources)
            try file.setAttribute("format", .string(ShardFormat.name))
            try file.setAttribute("format_version", .int64(ShardFormat.version))
            try file.setAttribute("dataset", .string(plan.dataset))
            try file.setAttribute("split", .string(shard.split))
            try file.setAttribute("resolution", .int64(Int64(r)))
            try file.setAttribute("class_names", .strings(plan.classNames))
        } catch {
            unlink(tmp)
            throw DataError.badShard(path: final, detail: "cannot write shard: \(error)")
        }
        if labels.isEmpty {
            // Nothing usable: no file (the manifest lists only shards with images), but a record
            // so a rerun knows this shard is done.
            unlink(tmp)
            unlink(final)
            let rec = ShardRecord(file: shard.file, split: shard.split, count: 0, sha256: "", planHash: shard.planHash,
                                  classCounts: classCounts, skipped: skipped)
            try rec.write(out: out)
            return rec
        }
        // The file is closed (strong close degree): make it durable, then give it its real name.
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, final) == 0 else {
            unlink(tmp)
            throw DataError.badShard(path: final, detail: "cannot rename from \(tmp): \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncDirectory(of: final)
        let sha = try SHA256.hexHash(file: final)
        let rec = ShardRecord(file: shard.file, split: shard.split, count: labels.count, sha256: sha, planHash: shard.planHash,
                              classCounts: classCounts, skipped: skipped)
        try rec.write(out: out)
        return rec
    }
}
