import Foundation

/// The HDF5 shard format (DESIGN section 7): attributes `format` and `format_version` of every shard.
public enum ShardFormat {
    public static let name = "ifer-shard"
    public static let version: Int64 = 1
}

/// One shard as the manifest lists it: file name relative to the manifest, split, image count and
/// the SHA-256 of the whole file (checked when a loader opens it).
public struct ShardEntry: Codable, Equatable, Sendable {
    public var file: String
    public var split: String
    public var count: Int
    public var sha256: String
    public init(file: String, split: String, count: Int, sha256: String) {
        self.file = file; self.split = split; self.count = count; self.sha256 = sha256
    }
}

/// `<out>/manifest.json` (DESIGN section 7). Keys are snake_case; written by rank 0 only,
/// atomically (temporary file, fsync, rename).
public struct Manifest: Codable, Equatable, Sendable {
    public static let formatName = "ifer-manifest"
    public static let currentVersion = 1

    public var format: String = Manifest.formatName
    public var formatVersion: Int = Manifest.currentVersion
    public var dataset: String
    public var resolution: Int
    public var classNames: [String]
    /// Per split: the number of images of each class (index = label); [] for unlabeled datasets.
    public var classCounts: [String: [Int]]
    /// Per split: the number of images in its shards.
    public var counts: [String: Int]
    public var shards: [ShardEntry]
    public var skipped: [SkippedSource]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", dataset, resolution, classNames = "class_names"
        case classCounts = "class_counts", counts, shards, skipped
    }

    public init(dataset: String, resolution: Int, classNames: [String], classCounts: [String: [Int]],
                counts: [String: Int], shards: [ShardEntry], skipped: [SkippedSource]) {
        self.dataset = dataset; self.resolution = resolution; self.classNames = classNames
        self.classCounts = classCounts; self.counts = counts; self.shards = shards; self.skipped = skipped
    }

    /// Reads and checks `path` (the manifest file).
    public static func load(_ path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.missingFile(path: path, detail: "manifest not found or unreadable (run `ifer shard` first)")
        }
        let m: Manifest
        do { m = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw DataError.badShard(path: path, detail: "not a valid manifest: \(error)")
        }
        guard m.format == formatName else {
            throw DataError.badShard(path: path, detail: "format is '\(m.format)', expected '\(formatName)'")
        }
        guard m.formatVersion <= currentVersion else {
            throw DataError.badShard(path: path, detail: "format_version \(m.formatVersion) is newer than this build understands (\(currentVersion))")
        }
        guard (1...16384).contains(m.resolution) else {
            throw DataError.badShard(path: path, detail: "resolution \(m.resolution) is not in 1...16384")
        }
        for s in m.shards where s.file.contains("/") || s.file.hasPrefix(".") || s.count < 0 || s.count > 1 << 40 {
            throw DataError.badShard(path: path, detail: "shard entry '\(s.file)' is not a plain file name with a count in 0...2^40")
        }
        return m
    }

    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self)
    }

    /// Writes to `path` atomically: a crash leaves either the old manifest or the new one.
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }
}

/// Write-to-temporary, fsync, rename, fsync the directory.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DataError.missingFile(path: tmp, detail: "cannot create: \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw DataError.missingFile(path: path, detail: "write failed: \(String(cString: strerror(errno)))")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw DataError.missingFile(path: path, detail: "rename failed: \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: path)
    }

    public static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
