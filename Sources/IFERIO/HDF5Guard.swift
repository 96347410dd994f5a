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
// Cost: one sequential read of the file (page-cache speed; a checkpoint's hash reads it anyway).
import CHDF5
import Foundation

public enum H5Guard {
    static let signature: [UInt8] = Array("GCOL".utf8) + [1, 0, 0, 0]  // signature, version 1, reserved
    static let headerSize = 16   // signature 4, version 1, reserved 3, collection size 8
    static let objectHeaderSize = 16

    /// Throws IOError naming the file and the offset of the first collection libhdf5 would loop on.
    public static func checkGlobalHeaps(path: String) throws {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw IOError(path: path, "cannot open for reading: \(String(cString: strerror(errno)))") }
        defer { Foundation.close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw IOError(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
        let fileSize = Int(st.st_size)
        let chunk = 4 << 20, overlap = signature.count - 1
        var buffer = [UInt8](repeating: 0, count: chunk + overlap)
        var base = 0          // file offset of buffer[0]
        var carried = 0       // bytes at the buffer's start kept from the previous chunk
        while base + carried < fileSize {
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + carried, chunk, off_t(base + carried)) }
            if got < 0 { throw IOError(path: path, "read failed: \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            let valid = carried + got
            for hit in matches(in: buffer, count: valid) {
                try walkCollection(fd: fd, path: path, offset: base + hit, fileSize: fileSize)
            }
            // Keep the last `overlap` bytes so a signature across the boundary is still seen.
            let keep = min(overlap, valid)
            for i in 0..<keep { buffer[i] = buffer[valid - keep + i] }
            base += valid - keep
            carried = keep
        }
    }

    /// Offsets of the 8-byte collection signature in buffer[0..<count].
    static func matches(in buffer: [UInt8], count: Int) -> [Int] {
        var hits: [Int] = []
        buffer.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            signature.withUnsafeBytes { sig in
                var start = 0
                while start + signature.count <= count, let found = ch5_memmem(p + start, count - start, sig.baseAddress!, signature.count) {
                    let at = found - p
                    hits.append(at)
                    start = at + 1
                }
            }
        }
        return hits
    }

    static func readLE(_ bytes: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }

    /// Walks one collection's objects as libhdf5 1.10's H5HG deserialiser does.
    static func walkCollection(fd: Int32, path: String, offset: Int, fileSize: Int) throws {
        guard offset + headerSize <= fileSize else { return }  // too short to be read as one
        var header = [UInt8](repeating: 0, count: headerSize)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, headerSize, off_t(offset)) }
        guard got == headerSize else { return }
        let declared = readLE(header, 8, 8)
        // libhdf5 reads `declared` bytes from the file; a collection past the end fails there.
        guard declared >= UInt64(headerSize), declared <= UInt64(fileSize - offset) else { return }
        let size = Int(declared)
        var heap = [UInt8](repeating: 0, count: size)
        let read = heap.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, size, off_t(offset)) }
        guard read == size else { return }
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
