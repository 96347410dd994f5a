// libFuzzer target: a shard directory from one input. The input is
//   [4 bytes little-endian n] [n bytes manifest.json] [rest: the HDF5 shard file]
// (the corpus holds real `ifer shard` outputs in this form, made by scripts/fuzz.sh --seed).
// The files go to a per-process folder under /dev/shm (or /tmp); ShardDataset opens them without
// the SHA-256 check (as if the manifest matched damaged data), then every image is read.
import Foundation

private let dir: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let d = base + "/ifer-fuzz-shard-\(getpid())"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4 else { return 0 }
    let n = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16 | Int(data[3]) << 24
    guard n <= size - 4 else { return 0 }
    let manifest = Data(bytes: data + 4, count: n)
    let shard = Data(bytes: data + 4 + n, count: size - 4 - n)
    guard (try? manifest.write(to: URL(fileURLWithPath: dir + "/manifest.json"))) != nil,
          let m = try? Manifest.load(dir + "/manifest.json") else { return 0 }
    for e in m.shards { _ = try? shard.write(to: URL(fileURLWithPath: dir + "/" + e.file)) }
    for split in Set(m.shards.map(\.split)) {
        guard let ds = try? ShardDataset(path: dir, split: split, verify: false) else { continue }
        var buf = [UInt8](repeating: 0, count: ds.imageBytes)
        for i in 0..<ds.count {
            _ = try? buf.withUnsafeMutableBufferPointer { try ds.readImages([i], into: $0.baseAddress!) }
            _ = try? ds.source(of: i)
        }
        ds.close()
    }
    for e in m.shards { try? FileManager.default.removeItem(atPath: dir + "/" + e.file) }
    return 0
}
