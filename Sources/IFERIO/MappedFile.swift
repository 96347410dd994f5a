// A file mapped into memory once, so that a checkpoint is hashed, checked and parsed from the same
// bytes: the whole-file SHA-256 (the sidecar check) and the H5Guard scan run over the mapping in
// one pass, chunk by chunk, and HDF5 then reads that mapping in place (H5File(image:)). The file
// is read from disk (or the page cache) exactly once and never copied into a buffer of its own.
//
// The mapping is private and writable (MAP_PRIVATE, PROT_READ | PROT_WRITE): HDF5 opens it
// read-only and never writes, and if it did the write would go to a private copy of the page,
// never to the file. The mapped pages are the page cache's (file-backed: the kernel can drop them
// under memory pressure, and they are counted in RSS only while mapped).
//
// A mapped file that another process truncates faults on the missing pages (SIGBUS). Checkpoints
// and shards are only ever replaced by rename, never rewritten in place, so the inode mapped here
// stays whole while it is read.
import CHDF5
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile {
    public let path: String
    /// Every byte of the file.
    public let bytes: UnsafeRawBufferPointer
    /// The image as the HDF5 core driver sees it (address and size), alive as long as the mapping.
    let image: UnsafeMutablePointer<ch5_image>
    /// True once H5Guard has passed these bytes (by `scan` or by H5File(image:)).
    var guardPassed = false
    /// The name HDF5 knows the image by. The core driver refuses a name that exists on disk (it
    /// would read that file instead), and shares one open file between opens of the same name;
    /// "<file>/mapped-<n>" can never exist (a regular file has no children) and is unique.
    let hdf5Name: String
    nonisolated(unsafe) private static var opened = 0
    private static let openedLock = NSLock()

    /// Maps the whole file. `readAhead`: ask the kernel to start reading all of it now (a file
    /// about to be read whole, like a checkpoint); otherwise only advise sequential access.
    public init(path: String, readAhead: Bool) throws {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            throw IOError(path: path, FileManager.default.fileExists(atPath: path) ? "cannot open for reading: \(String(cString: strerror(errno)))" : "no such file")
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw IOError(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw IOError(path: path, "not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw IOError(path: path, "empty file: not an HDF5 file (or truncated)") }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw IOError(path: path, "cannot map \(size) bytes: \(String(cString: strerror(errno)))") }
        _ = madvise(p, size, readAhead ? MADV_WILLNEED : MADV_SEQUENTIAL)
        self.path = path
        MappedFile.openedLock.lock()
        MappedFile.opened += 1
        hdf5Name = "\(path)/mapped-\(MappedFile.opened)"
        MappedFile.openedLock.unlock()
        bytes = UnsafeRawBufferPointer(start: p, count: size)
        image = UnsafeMutablePointer<ch5_image>.allocate(capacity: 1)
        image.initialize(to: ch5_image(buffer: p, size: size))
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        image.deallocate()
    }

    /// One pass over the file, 1 MB at a time while each piece is in the cache: the SHA-256 of
    /// every byte (hex, when `hashing`; else nil) and the offsets of every global heap collection
    /// signature, for `checkHeaps` (a caller that compares the hash first reports a modified
    /// file as modified, not as whatever the modification broke).
    public func scan(hashing: Bool) -> (sha256: String?, heaps: [Int]) {
        var sha = SHA256()
        var heaps: [Int] = []
        let chunk = 1 << 20
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            if hashing { sha.update(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) }
            heaps += H5Guard.signatureOffsets(in: bytes, from: start, to: end)
            start = end
        }
        return (hashing ? SHA256.hex(sha.finalize()) : nil, heaps)
    }

    /// H5Guard's walk of the collections `scan` found: throws IOError naming the file and the
    /// offset of one libhdf5 1.10 would loop on. Afterwards H5File(image:) skips its own scan.
    public func checkHeaps(_ offsets: [Int]) throws {
        for offset in offsets { try H5Guard.walkCollection(bytes, path: path, offset: offset) }
        guardPassed = true
    }
}
