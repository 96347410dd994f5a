import Foundation
import IFERTrain

/// `ifer dev allreduce-check`: every collective of the communicator against its closed form, run
/// by the test suite under real mpirun with 1 to 4 ranks.
public enum CommCheck {
    /// Returns one summary line; throws `DistError.mismatch` naming the rank and the collective.
    public static func run(_ comm: Communicator, count: Int = 1_000_003) throws -> String {
        let r = comm.rank, n = comm.worldSize
        func fail(_ op: String, _ detail: String) -> DistError {
            DistError.mismatch("rank \(r) of \(n): \(op) gave a wrong result: \(detail)")
        }

        // Float sum and average: rank r contributes (r + 1) * (i % 1000); small integers are exact.
        let f = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { f.deallocate() }
        let ranksSum = Float(n * (n + 1) / 2)
        for avg in [false, true] {
            for i in 0..<count { f[i] = Float(r + 1) * Float(i % 1000) }
            try comm.allReduce(f, count: count, average: avg)
            for i in 0..<count {
                let want = ranksSum * Float(i % 1000) / (avg ? Float(n) : 1)
                if abs(f[i] - want) > 1e-6 * max(1, abs(want)) {
                    throw fail(avg ? "allReduce(Float, average)" : "allReduce(Float, sum)", "element \(i) is \(f[i]), expected \(want)")
                }
            }
        }

        // Double sum.
        var d = (0..<1000).map { Double(r) * 0.5 + Double($0) }
        try d.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
        for (i, v) in d.enumerated() where v != 0.5 * Double(n * (n - 1) / 2) + Double(i * n) {
            throw fail("allReduce(Double)", "element \(i) is \(v)")
        }

        // Broadcast from the last rank (not 0, to catch a root mix-up).
        let root = n - 1
        var bytes = [UInt8](repeating: 0, count: 100_000)
        if r == root { for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) } }
        try bytes.withUnsafeMutableBytes { try comm.broadcast($0.baseAddress!, bytes: $0.count, root: root) }
        for (i, b) in bytes.enumerated() where b != UInt8(truncatingIfNeeded: i &* 7 &+ 3) {
            throw fail("broadcast(root \(root))", "byte \(i) is \(b)")
        }
        let s = try comm.broadcast(r == 0 ? "checkpoint-0042.h5 ✓" : "", root: 0)
        if s != "checkpoint-0042.h5 ✓" { throw fail("broadcast(String)", "got \"\(s)\"") }

        // All-gather in rank order.
        let g = try comm.allGather([Int64(r), Int64(r * 10 + 7)])
        let want = (0..<n).flatMap { [Int64($0), Int64($0 * 10 + 7)] }
        if g != want { throw fail("allGather", "got \(g), expected \(want)") }

        // An invalid MPI call is an error naming the rank and the operation, not an abort.
        if let mpi = comm as? MPICommunicator {
            do {
                try mpi.invalidCallForTesting()
                throw fail("MPI_ERRORS_RETURN", "an invalid MPI_Allreduce did not fail")
            } catch let e as DistError {
                guard case let .mpi(op, rank, _) = e, rank == r, op.contains("MPI_Allreduce") else { throw e }
            }
        }

        try comm.barrier()
        return "comm-check ok: rank \(r) of \(n), local rank \(comm.localRank) of \(comm.localSize)"
    }
}
