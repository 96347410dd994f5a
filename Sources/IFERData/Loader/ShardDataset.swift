import Foundation
import IFERIO

/// One split of a sharded dataset: the manifest's shards of that split, opened and checked.
///
/// Opening verifies each shard's SHA-256 against the manifest (a mismatch is an error naming the
/// file), then its format attributes and shapes. Labels, valence and arousal are read into memory
/// (a few bytes per sample); images stay on disk and are read by index. Sample i of the split is
/// image i of the shards concatenated in manifest order: its "global sample index".
public final class ShardDataset {
    public let directory: String
    public let manifest: Manifest
    public let split: String
    public let resolution: Int
    public let count: Int
    /// Per sample: class index or -1; valence/arousal or NaN.
    public let labels: [Int]
    public let valence: [Float]
    public let arousal: [Float]
    public var classNames: [String] { manifest.classNames }

    struct Part {
        let path: String
        let file: H5File
        let images: H5Dataset
        let start: Int
        let count: Int
    }
    let parts: [Part]
    let starts: [Int]

    /// `path` is the shard directory or its manifest.json.
    public init(path: String, split: String, verify: Bool = true) throws {
        let manifestPath = path.hasSuffix(".json") ? path : path + "/manifest.json"
        let dir = (manifestPath as NSString).deletingLastPathComponent
        let m = try Manifest.load(manifestPath)
        let entries = m.shards.filter { $0.split == split }
        guard !entries.isEmpty else {
            let have = Set(m.shards.map(\.split)).sorted().joined(separator: ", ")
            throw DataError.emptyDataset("\(manifestPath) has no shards for split '\(split)' (splits with shards: \(have.isEmpty ? "none" : have))")
        }
        let r = m.resolution
        var parts: [Part] = []
        var labels: [Int] = [], valence: [Float] = [], arousal: [Float] = []
        var start = 0
        for e in entries {
            let p = (dir.isEmpty ? "." : dir) + "/" + e.file
            guard FileManager.default.fileExists(atPath: p) else {
                throw DataError.missingFile(path: p, detail: "shard listed in \(manifestPath) does not exist")
            }
            if verify {
                let sha = try SHA256.hexHash(file: p)
                guard sha == e.sha256 else { throw DataError.checksum(path: p, expected: e.sha256, actual: sha) }
            }
            do {
                let f = try H5File(path: p, mode: .readOnly)
                guard (try? f.attribute("format").stringValue) == ShardFormat.name else {
                    throw DataError.badShard(path: p, detail: "not an ifer shard (attribute 'format' is not '\(ShardFormat.name)')")
                }
                if let v = try? f.attribute("format_version").int64Value, v > ShardFormat.version {
                    throw DataError.badShard(path: p, detail: "format_version \(v) is newer than this build understands (\(ShardFormat.version))")
                }
                let images = try f.openDataset("/images")
                let shape = try images.shape()
                guard shape == [e.count, r, r, 3] else {
                    throw DataError.badShard(path: p, detail: "/images has shape \(shape), manifest says [\(e.count), \(r), \(r), 3]")
                }
                // Images are stored uncompressed, so a file shorter than its pixels is forged or truncated
                // (an HDF5 dataset can claim any size; nothing below may allocate by a claimed size first).
                let fileBytes = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0
                guard e.count <= fileBytes / (r * r * 3) else {
                    throw DataError.badShard(path: p, detail: "/images claims \(e.count) images of \(r)x\(r) but the file has only \(fileBytes) bytes")
                }
                let l = try Self.readColumn(f, "/labels", as: Int16.self, count: e.count, path: p)
                labels += try Self.checkedLabels(l, classCount: m.classNames.count, path: p)
                if f.exists("/valence") || f.exists("/arousal") {
                    valence += try Self.readColumn(f, "/valence", as: Float.self, count: e.count, path: p)
                    arousal += try Self.readColumn(f, "/arousal", as: Float.self, count: e.count, path: p)
                } else {
                    valence += [Float](repeating: .nan, count: e.count)
                    arousal += [Float](repeating: .nan, count: e.count)
                }
                let sourceShape = try f.exists("/source") ? f.shape(of: "/source") : []
                guard sourceShape == [e.count] else {
                    throw DataError.badShard(path: p, detail: "/source has shape \(sourceShape), expected [\(e.count)]")
                }
                parts.append(Part(path: p, file: f, images: images, start: start, count: e.count))
                start += e.count
            } catch let e as DataError {
                throw e
            } catch {
                throw DataError.badShard(path: p, detail: "\(error)")
            }
        }
        self.directory = dir
        self.manifest = m
        self.split = split
        self.resolution = r
        self.count = start
        self.labels = labels
        self.valence = valence
        self.arousal = arousal
        self.parts = parts
        self.starts = parts.map(\.start)
    }

    /// A one-dimensional dataset of `count` elements of type T, its shape checked before it is read.
    private static func readColumn<T: H5Element>(_ f: H5File, _ key: String, as type: T.Type, count: Int, path: String) throws -> [T] {
        guard f.exists(key) else { throw DataError.badShard(path: path, detail: "\(key) is missing") }
        let shape = try f.shape(of: key)
        guard shape == [count] else { throw DataError.badShard(path: path, detail: "\(key) has shape \(shape), expected [\(count)]") }
        let dtype = try f.dtype(of: key)
        guard dtype == T.h5dtype else { throw DataError.badShard(path: path, detail: "\(key) holds \(dtype), expected \(T.h5dtype)") }
        return try f.read(key, as: type)
    }

    /// Labels of one shard: with class names every label must be a class (0..<classCount; -1,
    /// "unlabelled", would index outside the targets); without class names every label must be -1.
    private static func checkedLabels(_ raw: [Int16], classCount: Int, path: String) throws -> [Int] {
        for (i, v) in raw.enumerated() {
            if classCount > 0 && !(0..<classCount).contains(Int(v)) {
                let what = v == -1 ? "-1 (unlabelled)" : "\(v)"
                throw DataError.badShard(path: path, detail: "/labels[\(i)] is \(what), but this labelled dataset has classes 0..<\(classCount)")
            }
            if classCount == 0 && v != -1 {
                throw DataError.badShard(path: path, detail: "/labels[\(i)] is \(v), but the manifest lists no classes (only -1 is allowed)")
            }
        }
        return raw.map(Int.init)
    }

    /// Bytes of one image (resolution^2 * 3).
    public var imageBytes: Int { resolution * resolution * 3 }

    /// The shard part holding global index i.
    func part(of i: Int) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= i { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Source path (relative to the dataset root) of sample i.
    public func source(of i: Int) throws -> String {
        guard (0..<count).contains(i) else { throw DataError.badArgument("sample index \(i) is out of range 0..<\(count)") }
        let p = parts[part(of: i)]
        let ds = try p.file.openDataset("/source")
        defer { ds.close() }
        return try ds.readStrings(rows: (i - p.start)..<(i - p.start + 1))[0]
    }

    /// Reads images `indices` (global sample indices) into `dst`, image k at k * imageBytes.
    /// Indices are sorted and runs of consecutive indices in one shard are read with one
    /// hyperslab read, so sequential (evaluation) batches cost one read per shard.
    public func readImages(_ indices: [Int], into dst: UnsafeMutablePointer<UInt8>) throws {
        let per = imageBytes
        for i in indices where !(0..<count).contains(i) {
            throw DataError.badArgument("sample index \(i) is out of range 0..<\(count)")
        }
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        var k = 0
        var scratch = [UInt8]()
        while k < order.count {
            let first = indices[order[k]]
            let pi = part(of: first)
            let p = parts[pi]
            // Extend the run while the next sorted index is the next row of the same shard.
            var end = k + 1
            while end < order.count, indices[order[end]] == indices[order[end - 1]] + 1 || indices[order[end]] == indices[order[end - 1]],
                  indices[order[end]] < p.start + p.count { end += 1 }
            let lo = first - p.start
            let hi = indices[order[end - 1]] - p.start + 1
            if hi - lo == 1 && end - k == 1 {
                try p.images.read(rows: lo..<hi, into: UnsafeMutableBufferPointer(start: dst + order[k] * per, count: per))
            } else {
                if scratch.count < (hi - lo) * per { scratch = [UInt8](repeating: 0, count: (hi - lo) * per) }
                try scratch.withUnsafeMutableBufferPointer { s in
                    try p.images.read(rows: lo..<hi, into: UnsafeMutableBufferPointer(start: s.baseAddress!, count: (hi - lo) * per))
                    for j in k..<end {
                        let row = indices[order[j]] - p.start - lo
                        (dst + order[j] * per).update(from: s.baseAddress! + row * per, count: per)
                    }
                }
            }
            k = end
        }
    }

    /// Closes every shard file.
    public func close() {
        for p in parts { p.images.close(); p.file.close() }
    }
}
