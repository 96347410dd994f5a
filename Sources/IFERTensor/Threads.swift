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
}
