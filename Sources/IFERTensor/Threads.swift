import CBLAS
import Foundation

/// BLAS thread control. With one rank per core, each rank must use one BLAS thread: two ranks
/// with two threads each on two cores measured about half the throughput (build-environment §4a).
public enum Threads {
    /// Sets the number of OpenBLAS threads for this process.
    public static func setBLAS(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    public static var blas: Int { Int(openblas_get_num_threads()) }

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

    /// body(part) for contiguous, ordered parts of 0..<count, one per BLAS thread, concurrently,
    /// when count × work is at least `parallelMinimum`; otherwise body(0..<count) here. Loops
    /// whose iterations write their own outputs therefore give the same bits at any thread count.
    /// With one BLAS thread (one rank per core under mpirun, or inside Winograd's team, which
    /// holds OpenBLAS at one thread while it runs its own) this is a plain call.
    @inline(__always)
    public static func parallel(_ count: Int, work: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = min(blas, count)
        if threads <= 1 || count * work < parallelMinimum { return body(0..<count) }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            body(count * t / threads ..< count * (t + 1) / threads)
        }
    }
}
