// Crash-safe file primitives: fsync a file or a directory, atomic rename, atomic small text files.
// A rename is only durable once the directory holding it has been fsynced.
import Foundation
import IFERIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Durable {
    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// fsync(2) on a file or directory path.
    public static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw CheckpointError(.io, path: path, "cannot open for fsync: \(errnoText())") }
        defer { close(fd) }
        #if canImport(Glibc)
        let rc = Glibc.fsync(fd)
        #else
        let rc = Darwin.fsync(fd)
        #endif
        if rc != 0 { throw CheckpointError(.io, path: path, "fsync failed: \(errnoText())") }
    }

    /// fsync(2) on `path` on another thread while this one computes the file's SHA-256 (hex):
    /// the flush waits for the disk, the hash reads the page cache, so the hash costs no time
    /// when the disk is the slower of the two.
    static func fsyncWhileHashing(path: String) throws -> String {
        final class Outcome: @unchecked Sendable { var error: Error? }  // written by the fsync thread before sync.leave
        let syncOutcome = Outcome()
        let sync = DispatchGroup()
        DispatchQueue.global().async(group: sync) {
            do { try fsync(path: path) } catch { syncOutcome.error = error }
        }
        let digest: Result<String, Error>
        do { digest = .success(try SHA256.hexHash(file: path)) } catch { digest = .failure(error) }
        sync.wait()
        if let error = syncOutcome.error { throw error }
        switch digest {
        case .success(let hex): return hex
        case .failure(let error): throw CheckpointError(.io, path: path, "\(error)")
        }
    }

    /// rename(2), atomic within one file system.
    static func rename(_ from: String, to: String) throws {
        #if canImport(Glibc)
        let rc = Glibc.rename(from, to)
        #else
        let rc = Darwin.rename(from, to)
        #endif
        if rc != 0 { throw CheckpointError(.io, path: to, "cannot rename \(from) over it: \(errnoText())") }
    }

    /// Writes `text` to `path` via a temporary sibling, fsync, rename and directory fsync.
    static func writeTextAtomically(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = (dir as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw CheckpointError(.io, path: tmp, "cannot write (directory missing or not writable?)")
        }
        do {
            try fsync(path: tmp)
            try rename(tmp, to: path)
            try fsync(path: dir)
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }
}
