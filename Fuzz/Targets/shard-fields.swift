// libFuzzer target: structurally valid HDF5 shards with hostile contents. libhdf5 itself is not
// the subject here (see the `shard` target); the input's bytes choose what a careless or hostile
// producer could put in a well-formed file: resolution, image count, manifest count, class
// count, dtype and rank of /labels, label values, valence/arousal presence and lengths, /source,
// format attributes. The shard is written with H5File, the manifest with Manifest.write (its
// SHA-256 correct, so ShardDataset's checks after the hash run), then every image is read.
// Each input must end in a DataError / IOError or a consistent dataset, never a crash.
import Foundation
import IFERIO

private let dir: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let d = base + "/ifer-fuzz-fields-\(getpid())"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}()

/// Reads the input a byte at a time (0 after the end).
private struct Bytes {
    let data: UnsafeBufferPointer<UInt8>
    var i = 0
    mutating func next() -> Int { defer { i += 1 }; return i < data.count ? Int(data[i]) : 0 }
    mutating func int16() -> Int16 { Int16(truncatingIfNeeded: next() | next() << 8) }
}

private func writeShard(_ b: inout Bytes, path: String) throws -> (count: Int, classes: Int, resolution: Int) {
    let r = 1 + b.next() % 6
    let n = b.next() % 9
    let flags = b.next()
    let classes = b.next() % 5
    let f = try H5File(path: path, mode: .create)
    defer { f.close() }
    try f.setAttribute("format", .string(flags & 1 == 0 ? ShardFormat.name : "other"))
    try f.setAttribute("format_version", .int64(flags & 2 == 0 ? Int64(1) : Int64(b.next())))
    let claimed = flags & 4 == 0 ? n : n + b.next() * 1000
    if claimed == n {
        try f.write("/images", (0..<(n * r * r * 3)).map { UInt8(truncatingIfNeeded: $0) }, shape: [n, r, r, 3])
    } else {
        // Extendible: claims many rows without storing them.
        let ds = try f.createDataset("/images", of: UInt8.self, shape: [claimed, r, r, 3], chunk: [1, r, r, 3], extendible: true)
        ds.close()
    }
    let labelCount = max(0, n + (b.next() % 3) - 1)
    let labels = (0..<labelCount).map { _ in b.next() % 4 == 0 ? b.int16() : Int16(b.next() % 6) - 1 }
    switch (flags >> 3) & 3 {
    case 0: try f.write("/labels", labels)
    case 1: try f.write("/labels", labels.map(Int32.init))
    case 2: try f.write("/labels", labels.map(Float.init))
    default: if labelCount > 0 { try f.write("/labels", labels, shape: [1, labelCount]) }
    }
    if flags & 32 != 0 { try f.write("/valence", [Float](repeating: 0.5, count: max(0, n + (b.next() % 3) - 1))) }
    if flags & 64 != 0 { try f.write("/arousal", [Float](repeating: -0.5, count: n)) }
    if flags & 128 == 0 { try f.writeStrings("/source", (0..<n).map { "s\($0).png" }) }
    return (claimed, classes, r)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var b = Bytes(data: UnsafeBufferPointer(start: data, count: size))
    let path = dir + "/f-train-00000.h5"
    guard let (claimed, classes, r) = try? writeShard(&b, path: path), let sha = try? SHA256.hexHash(file: path) else { return 0 }
    let count = b.next() % 5 == 0 ? claimed + b.next() - 128 : claimed
    let res = b.next() % 7 == 0 ? b.next() * 1000 : r
    let m = Manifest(dataset: "f", resolution: res, classNames: (0..<classes).map { "c\($0)" }, classCounts: [:],
                     counts: ["train": count], shards: [ShardEntry(file: "f-train-00000.h5", split: "train", count: count, sha256: sha)],
                     skipped: [])
    // Plain write (Manifest.write fsyncs, which would cost most of each execution).
    guard let json = try? m.encoded(), (try? json.write(to: URL(fileURLWithPath: dir + "/manifest.json"))) != nil,
          let ds = try? ShardDataset(path: dir, split: "train") else { return 0 }
    // Accepted: it must be consistent.
    precondition(ds.labels.count == ds.count && ds.valence.count == ds.count && ds.arousal.count == ds.count)
    precondition(ds.labels.allSatisfy { classes > 0 ? (0..<classes).contains($0) : $0 == -1 })
    var buf = [UInt8](repeating: 0, count: ds.imageBytes * max(1, ds.count))
    buf.withUnsafeMutableBufferPointer { p in
        precondition((try? ds.readImages(Array(0..<ds.count), into: p.baseAddress!)) != nil, "an accepted shard failed to read")
    }
    ds.close()
    return 0
}
