// A pre-parse check that keeps libhdf5 1.10 out of a known infinite loop.
//
// Variable-length strings (our string attributes, h5py's) live in "global heap collections"
// (HDF5 file format spec, section III.E: signature "GCOL", version 1, 3 reserved bytes, the
// collection size, then objects of [index u16, refcount u16, reserved u32, size, data padded to
// 8 bytes]). libhdf5 1.10's H5HG deserialiser walks the objects with `p = begin + need`, where
// need is the size field of a free-space object (index 0): a free-space object of size 0 never
// advances, and a huge one wraps the pointer, so H5Aread of a string attribute spins forever on
// such a file (found by scripts/fuzz.sh shard / checkpoint). Later libhdf5 versions check this;
// Debian's does not. `H5Guard.checkGlobalHeaps` finds every collection in the file and walks it
// the way libhdf5 does, refusing the file before HDF5 opens it if a walk would not end.
//
// Cost: one sequential pass over the mapped file (page-cache speed). A checkpoint's pass is the
// same one that hashes it for the sidecar check (MappedFile.scan), so it costs no extra read.
import Foundation

public enum H5Guard {
    static let signature: [UInt8] = Array("GCOL".utf8) + [1, 0, 0, 0]  // signature, version 1, reserved
    static let headerSize = 16   // signature 4, version 1, reserved 3, collection size 8
    static let objectHeaderSize = 16

    /// Throws IOError naming the file and the offset of the first collection libhdf5 would loop on.
    public static func checkGlobalHeaps(path: String) throws {
        let file = try MappedFile(path: path, readAhead: false)
        try file.checkHeaps(file.scan(hashing: false).heaps)
    }

    /// The same check over bytes already in memory (a mapped file).
    public static func checkGlobalHeaps(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        for offset in signatureOffsets(in: bytes, from: 0, to: bytes.count) {
            try walkCollection(bytes, path: path, offset: offset)
        }
    }

    /// Offsets in from..<to where the 8-byte collection signature starts (it may end past `to`).
    /// 32 positions at a time: a position is a candidate when its byte is "G" and the byte 3
    /// later is "L" (about 1 in 65,536 positions of random data), and a candidate is then
    /// compared whole. This runs beside SHA-256 in the checkpoint's one pass, several times
    /// faster than glibc's memmem for this 8-byte needle.
    static func signatureOffsets(in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> [Int] {
        guard let base = bytes.baseAddress else { return [] }
        let n = signature.count
        let end = min(to, bytes.count - n + 1)   // last start + 1 at which a signature fits
        var hits: [Int] = []
        func isSignature(_ at: Int) -> Bool {
            for k in 0..<n where bytes[at + k] != signature[k] { return false }
            return true
        }
        let g = SIMD32<UInt8>(repeating: signature[0]), l = SIMD32<UInt8>(repeating: signature[3])
        var i = max(from, 0)
        while i + 32 <= end {
            let first = (base + i).loadUnaligned(as: SIMD32<UInt8>.self)
            let fourth = (base + i + 3).loadUnaligned(as: SIMD32<UInt8>.self)
            let candidates = (first .== g) .& (fourth .== l)
            if any(candidates) {
                for k in 0..<32 where candidates[k] && isSignature(i + k) { hits.append(i + k) }
            }
            i += 32
        }
        while i < end {
            if isSignature(i) { hits.append(i) }
            i += 1
        }
        return hits
    }

    static func readLE(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }

    /// Walks the collection at `offset` as libhdf5 1.10's H5HG deserialiser does.
    static func walkCollection(_ file: UnsafeRawBufferPointer, path: String, offset: Int) throws {
        let fileSize = file.count
        guard offset + headerSize <= fileSize else { return }  // too short to be read as one
        let declared = readLE(file, offset + 8, 8)
        // libhdf5 reads `declared` bytes from the file; a collection past the end fails there.
        guard declared >= UInt64(headerSize), declared <= UInt64(fileSize - offset) else { return }
        let size = Int(declared)
        let heap = UnsafeRawBufferPointer(rebasing: file[offset..<(offset + size)])
        var p = headerSize
        while p < size {
            if p + objectHeaderSize > size { break }     // too small for an object: free space, end
            let begin = p
            let index = readLE(heap, p, 2)
            let objectSize = readLE(heap, p + 8, 8)
            let remaining = UInt64(size - begin)
            let need: UInt64 = index > 0 ? UInt64(objectHeaderSize) &+ ((objectSize &+ 7) & ~7) : objectSize
            if need == 0 || need > remaining || (index > 0 && objectSize > remaining) {
                throw IOError(path: path, "corrupt HDF5 global heap collection at byte \(offset): object \(index) at +\(begin) "
                              + "has size \(objectSize) in a \(size)-byte collection (libhdf5 would loop forever on it)")
            }
            p = begin + Int(need)
        }
    }
}
