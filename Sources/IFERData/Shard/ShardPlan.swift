import Foundation
import IFERTensor

/// One shard to write: its file name, split, number within the split, and the source items it
/// holds. `planHash` identifies the content the shard must have (items, resolution, options) so
/// a rerun can tell a complete shard from a stale one.
public struct PlannedShard: Codable, Equatable, Sendable {
    public var file: String
    public var split: String
    public var number: Int
    public var items: [SourceItem]
    public var planHash: String
}

/// What rank 0 decides and broadcasts: every shard, in manifest order, and what the scan skipped.
///
/// Numbering: each split's items (sorted by source path) are cut into runs of `imagesPerShard`;
/// run k becomes `<dataset>-<split>-<k, five digits>.h5`. The names and contents depend only on
/// the dataset, the resolution and the shard size, never on the world size. Shard k of the plan
/// (in manifest order) is written by rank k mod world.
public struct ShardPlan: Codable, Equatable, Sendable {
    public var dataset: String
    public var resolution: Int
    public var classNames: [String]
    public var splits: [String]
    public var allowUpscale: Bool
    public var shards: [PlannedShard]
    public var skipped: [SkippedSource]

    public static let formatVersion = 1

    public init(dataset: DatasetKind, scan: ScanResult, resolution: Int, classNames: [String], splits: [String],
                imagesPerShard: Int, allowUpscale: Bool) {
        self.dataset = dataset.rawValue
        self.resolution = resolution
        self.classNames = classNames
        self.splits = splits
        self.allowUpscale = allowUpscale
        self.skipped = scan.skipped
        var shards: [PlannedShard] = []
        for split in splits {
            let items = scan.items.filter { $0.split == split }
            var k = 0
            var start = 0
            while start < items.count {
                let chunk = Array(items[start..<min(items.count, start + imagesPerShard)])
                let file = String(format: "%@-%@-%05d.h5", dataset.rawValue, split, k)
                let hash = ShardPlan.hash(file: file, resolution: resolution, allowUpscale: allowUpscale,
                                          classNames: classNames, items: chunk)
                shards.append(PlannedShard(file: file, split: split, number: k, items: chunk, planHash: hash))
                k += 1
                start += imagesPerShard
            }
        }
        self.shards = shards
    }

    /// Images per shard for a target size in MiB (at least one).
    public static func imagesPerShard(shardSizeMB: Double, resolution: Int) -> Int {
        max(1, Int(shardSizeMB * 1_048_576 / Double(resolution * resolution * 3)))
    }

    /// Indices into `shards` that `rank` writes.
    public func assigned(rank: Int, worldSize: Int) -> [Int] {
        Array(stride(from: rank, to: shards.count, by: max(1, worldSize)))
    }

    /// A 64-bit FNV-1a digest (hex) of everything that determines a shard's content.
    static func hash(file: String, resolution: Int, allowUpscale: Bool, classNames: [String], items: [SourceItem]) -> String {
        var h = FNV1a()
        // Each field's bytes, then 0xff (never in UTF-8) so that field boundaries count.
        func mix(_ s: String) { h.add(s.utf8); h.add(0xff) }
        mix("v\(formatVersion)"); mix(file); mix("\(resolution)"); mix("\(allowUpscale)")
        classNames.forEach(mix)
        for it in items {
            mix(it.source); mix(it.split); mix("\(it.label)")
            mix(it.valence.map { "\($0)" } ?? "-"); mix(it.arousal.map { "\($0)" } ?? "-")
            mix(it.box.map { "\($0.x),\($0.y),\($0.width),\($0.height)" } ?? "-")
        }
        return String(format: "%016llx", h.value)
    }
}

/// What a rank reports for each shard it wrote (or found complete): written next to the shards as
/// `.ifer-parts/<file>.json` so a rerun can skip it and rank 0 can merge all of them.
public struct ShardRecord: Codable, Equatable, Sendable {
    public var file: String
    public var split: String
    public var count: Int
    public var sha256: String
    public var planHash: String
    public var classCounts: [Int]
    public var skipped: [SkippedSource]

    enum CodingKeys: String, CodingKey {
        case file, split, count, sha256, planHash = "plan_hash", classCounts = "class_counts", skipped
    }

    public static let directory = ".ifer-parts"
    public static func path(out: String, file: String) -> String { out + "/" + directory + "/" + file + ".json" }

    public static func load(out: String, file: String) -> ShardRecord? {
        guard let d = FileManager.default.contents(atPath: path(out: out, file: file)) else { return nil }
        return try? JSONDecoder().decode(ShardRecord.self, from: d)
    }

    public func write(out: String) throws {
        try FileManager.default.createDirectory(atPath: out + "/" + ShardRecord.directory, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: ShardRecord.path(out: out, file: file))
    }
}
