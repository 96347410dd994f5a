// SHA-256 (FIPS 180-4), streaming: feed bytes with update(), read the digest with finalize().
// Used for shard manifests and checkpoints (per-dataset checksums and the whole-file sidecar).
// The compression function is apple/swift-crypto's (BoringSSL's assembly, with the x86 SHA
// extensions where the CPU has them: ~1.5-2 GB/s on one core instead of ~170 MB/s for the
// hand-written Swift version this file used to hold); this type keeps the project's small API.
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct SHA256 {
    private var state = Crypto.SHA256()

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        state.update(bufferPointer: bytes)
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ update(UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { update($0) }
    }

    /// Pads, finishes and returns the 32-byte digest.
    public mutating func finalize() -> [UInt8] {
        Array(state.finalize())
    }

    // MARK: one-shot helpers

    public static func hash<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }

    /// Digest of raw bytes (tensor storage, no copy).
    public static func hash(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var s = SHA256()
        s.update(raw)
        return s.finalize()
    }

    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hexHash<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 { hex(hash(bytes)) }

    /// Hex digest of raw bytes (checkpoint dataset checksums).
    public static func hexHash(_ raw: UnsafeRawBufferPointer) -> String { hex(hash(raw)) }

    /// Hashes a file in blocks of `blockBytes` (constant memory for multi-GB shards and
    /// checkpoints). Reading and hashing overlap: a reader thread fills one of two buffers with
    /// read(2) while this thread hashes the other, so a file on disk is hashed at the disk's
    /// speed and a file in the page cache at the hash's.
    public static func hexHash(file path: String, blockBytes: Int = 4 << 20) throws -> String {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            throw IOError(path: path, FileManager.default.fileExists(atPath: path) ? "cannot open for hashing" : "no such file")
        }
        defer { close(fd) }
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        let block = max(blockBytes, 4096)
        let pipe = ReadPipe(fd: fd, blockBytes: block)
        let reader = DispatchGroup()
        DispatchQueue.global().async(group: reader) { pipe.readAll() }
        var s = SHA256()
        var i = 0
        var failure: Int32 = 0
        while true {
            pipe.filled.wait()
            let n = pipe.counts[i]
            if n <= 0 { failure = Int32(-n); break }
            s.update(UnsafeRawBufferPointer(rebasing: pipe.buffers[i][0..<n]))
            pipe.empty.signal()
            i ^= 1
        }
        reader.wait()
        if failure != 0 { throw IOError(path: path, "read failed while hashing: \(String(cString: strerror(failure)))") }
        return hex(s.finalize())
    }
}

/// The two buffers hexHash(file:) hashes from, filled by `readAll` on another thread.
/// Buffer i belongs to the reader between empty.wait() and filled.signal(), to the hasher after.
private final class ReadPipe: @unchecked Sendable {
    let fd: Int32
    let block: Int
    let buffers: [UnsafeMutableRawBufferPointer]
    /// counts[i]: bytes read into buffers[i], 0 at the end of the file, -errno on failure.
    let counts: UnsafeMutablePointer<Int>
    let filled = DispatchSemaphore(value: 0)
    /// Starts at 0 and is signalled twice (a semaphore must not be released below its initial value).
    let empty = DispatchSemaphore(value: 0)

    init(fd: Int32, blockBytes: Int) {
        self.fd = fd
        block = blockBytes
        buffers = (0..<2).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: blockBytes, alignment: 64) }
        counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        empty.signal()
        empty.signal()
    }

    deinit {
        for b in buffers { b.deallocate() }
        counts.deallocate()
    }

    /// Fills the buffers in turn until the end of the file or an error (its count is <= 0).
    func readAll() {
        var i = 0
        while true {
            empty.wait()
            var n = read(fd, buffers[i].baseAddress, block)
            while n < 0 && errno == EINTR { n = read(fd, buffers[i].baseAddress, block) }
            counts[i] = n < 0 ? -Int(errno) : n
            filled.signal()
            if n <= 0 { return }
            i ^= 1
        }
    }
}
