// Per-dataset SHA-256 checksums of many tensors at once, split over threads: each tensor is
// hashed by one thread (SHA-256 of one message is sequential), threads take the next tensor
// from a shared counter, largest first so that the last tensors to finish are small.
import Foundation
import IFERIO
import IFERTensor

enum Checksums {
    /// Threads for hashing: the BLAS threads of this process (one per rank under mpirun, the
    /// cores otherwise), so hashing never oversubscribes the cores the ranks were given.
    static var threads: Int { max(1, min(Threads.blas, Threads.cores)) }

    /// Runs body(i) for every i in sizes.indices over the threads, largest first; each index is
    /// run by exactly one thread.
    static func forEachLargestFirst(_ sizes: [Int], _ body: (Int) -> Void) {
        let order = sizes.indices.sorted { sizes[$0] > sizes[$1] }
        let workers = min(threads, sizes.count)
        if workers <= 1 {
            for i in order { body(i) }
            return
        }
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                lock.lock()
                let k = next
                next += 1
                lock.unlock()
                if k >= order.count { return }
                body(order[k])
            }
        }
    }

    /// Hex SHA-256 of each buffer's bytes, in the order given.
    static func hexDigests(_ buffers: [UnsafeRawBufferPointer]) -> [String] {
        var out = [String](repeating: "", count: buffers.count)
        out.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            forEachLargestFirst(buffers.map(\.count)) { i in slots[i] = SHA256.hexHash(buffers[i]) }  // one writer per slot
        }
        return out
    }

    /// Copies each source to its destination (source.count bytes) and returns the hex SHA-256
    /// of each, in one pass: 256 KB at a time, hashed while in the cache, then copied.
    static func copyAndHash(_ items: [(source: UnsafeRawBufferPointer, destination: UnsafeMutableRawPointer)]) -> [String] {
        var out = [String](repeating: "", count: items.count)
        out.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            forEachLargestFirst(items.map(\.source.count)) { i in
                let (source, destination) = items[i]
                var sha = SHA256()
                let piece = 256 << 10
                var at = 0
                while at < source.count {
                    let end = min(at + piece, source.count)
                    let part = UnsafeRawBufferPointer(rebasing: source[at..<end])
                    sha.update(part)
                    if let base = part.baseAddress { (destination + at).copyMemory(from: base, byteCount: part.count) }
                    at = end
                }
                slots[i] = SHA256.hex(sha.finalize())
            }
        }
        return out
    }

    /// Hex SHA-256 of each tensor's float32 storage.
    static func hexDigests(_ tensors: [Tensor]) -> [String] {
        hexDigests(tensors.map { UnsafeRawBufferPointer(UnsafeBufferPointer($0.buffer)) })
    }
}
