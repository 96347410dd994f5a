import CBLAS
import Foundation

/// A block of float32 memory, 64-byte aligned so SIMD loads and BLAS see cache-line boundaries.
/// Tensors are views (offset + shape) into a Storage; several tensors may share one
/// (parameters all live in one flat Storage, see `FlatBuffer`).
public final class Storage {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    /// Storage of `count` floats, zero-filled unless `zeroed` is false (for outputs an op
    /// overwrites completely: zero-filling them measured ~10% of a transformer block's time).
    public init(count: Int, zeroed: Bool = true) {
        _ = Storage.allocatorTuned
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if posix_memalign(&raw, 64, bytes) != 0 || raw == nil {
            // Out of memory is not a user error we can recover from inside an op.
            preconditionFailure("IFERTensor: cannot allocate \(bytes) bytes")
        }
        base = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed {
            // Large blocks zero over the threads: the fill, and the page faults of fresh memory,
            // were 4-7% of a 2-thread tiny asit step on the calling thread alone.
            let p = base
            Threads.parallel(max(count, 1), work: count >= Storage.parallelZeroing ? Threads.parallelMinimum : 0) { r in
                (p + r.lowerBound).initialize(repeating: 0, count: r.count)
            }
        }
        Storage.live.add(bytes)
    }

    /// Floats from which a zero fill is split over the threads (1 MB).
    static let parallelZeroing = 1 << 18

    deinit {
        Storage.live.add(-max(count, 1) * MemoryLayout<Float>.stride)
        free(base)
    }

    /// glibc's malloc, tuned once for a training step's pattern (the same tensors allocated and
    /// freed every step). By default blocks over 128 KB (the threshold adapts up to 32 MB) come
    /// from mmap and go back to the kernel when freed, and the heap's top is trimmed above 128 KB:
    /// every step then faults in, and the kernel zero-fills, its activations again (measured: 4x
    /// the page faults of the peer step, ~5,000 a step). With blocks up to 32 MB kept in the heap
    /// and the top trimmed only past 1 GB, a step reuses the previous step's memory. Larger blocks
    /// (paper-size activations) still use mmap, so the peak RSS is unchanged where it matters.
    private static let allocatorTuned: Void = { _ = cblas_shim_tune_malloc(32 << 20, 1 << 30) }()

    /// Bytes of tensor storage alive right now and the high-water mark (for memory reports).
    public static let live = ByteCounter()
}

/// Thread-safe counter of live bytes with a peak, used by memory benchmarks.
public final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private var high = 0
    func add(_ n: Int) {
        lock.lock(); current += n; high = max(high, current); lock.unlock()
    }
    public var bytes: Int { lock.lock(); defer { lock.unlock() }; return current }
    public var peak: Int { lock.lock(); defer { lock.unlock() }; return high }
    public func resetPeak() { lock.lock(); high = current; lock.unlock() }
}
