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

    /// Hex SHA-256 of each buffer's bytes, in the order given.
    static func hexDigests(_ buffers: [UnsafeRawBufferPointer]) -> [String] {
        var out = [String](repeating: "", count: buffers.count)
        let order = buffers.indices.sorted { buffers[$0].count > buffers[$1].count }
        let workers = min(threads, buffers.count)
        if workers <= 1 {
            for i in order { out[i] = SHA256.hexHash(buffers[i]) }
            return out
        }
        let lock = NSLock()
        var next = 0
        out.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    lock.lock()
                    let k = next
                    next += 1
                    lock.unlock()
                    if k >= order.count { return }
                    let i = order[k]
                    slots[i] = SHA256.hexHash(buffers[i])  // each slot is written by one thread only
                }
            }
        }
        return out
    }

    /// Hex SHA-256 of each tensor's float32 storage.
    static func hexDigests(_ tensors: [Tensor]) -> [String] {
        hexDigests(tensors.map { UnsafeRawBufferPointer(UnsafeBufferPointer($0.buffer)) })
    }
}
