import CBLAS
import Foundation

/// The compute threads of this process: the parallel loops of the tensor core (`parallel`) and
/// the cuts of a large sgemm (`sgemm`) run on this many threads. OpenBLAS itself is held at one
/// thread: its idle workers spin on sched_yield for ~0.1 s after every call, and on a 2-core
/// machine that spinning took the second core from every loop of ours between two GEMMs (24% of
/// a 2-thread tiny asit step's samples, `perf record`). With one rank per core, each rank must
/// use one thread: two ranks with two threads each on two cores measured about half the
/// throughput (build-environment §4a).
public enum Threads {
    /// The thread count OpenBLAS started with (OPENBLAS_NUM_THREADS, or the cores), taken once,
    /// before OpenBLAS is set to one thread for good.
    private static let initial: Int = {
        let n = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return max(1, n)
    }()
    nonisolated(unsafe) private static var count: Int?

    /// Sets the number of compute threads (the name is the one every caller knows: they were
    /// OpenBLAS's threads before the tensor core split the GEMMs itself).
    public static func setBLAS(_ n: Int) {
        _ = initial
        count = max(1, n)
    }

    /// The number of compute threads.
    public static var blas: Int { count ?? initial }

    /// Runs `body` with OpenBLAS's own thread team at `n` threads, then holds it at one again:
    /// for benchmarks that compare the tensor core's GEMM cuts with raw OpenBLAS threading.
    public static func withOpenBLASThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        _ = initial
        openblas_set_num_threads(Int32(max(1, n)))
        defer { openblas_set_num_threads(1) }
        return try body()
    }

    /// Cores visible to this process.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// The default: cores shared evenly by the ranks on this node, at least one thread each.
    public static func defaultBLAS(localRanks: Int) -> Int {
        max(1, cores / max(1, localRanks))
    }

    public static var blasConfig: String { String(cString: openblas_get_config()) }

    /// Work (elements, or element-sized steps) below which `parallel` stays on the calling
    /// thread: waking a second thread costs a few microseconds, what ~64 K float adds take.
    public static let parallelMinimum = 1 << 16

    /// body(part) for contiguous, ordered parts of 0..<count, one per compute thread, concurrently,
    /// when count × work is at least `parallelMinimum`; otherwise body(0..<count) here. Loops
    /// whose iterations write their own outputs therefore give the same bits at any thread count.
    /// With one compute thread (one rank per core under mpirun) this is a plain call.
    @inline(__always)
    public static func parallel(_ count: Int, work: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = min(blas, count)
        if threads <= 1 || count * work < parallelMinimum { return body(0..<count) }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            body(count * t / threads ..< count * (t + 1) / threads)
        }
    }
}
