import ArgumentParser
import Foundation
import IFERTrain

/// `mpirun -np 2 ifer bench allreduce --json`: gradient all-reduce through the data-parallel path
/// (bucketed, overlapping thread) against one raw MPI_Allreduce, per buffer size; see
/// AllreduceBench.swift and docs/benchmarks.md.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce", abstract: "Benchmark: gradient all-reduce, bucketed data-parallel path vs raw MPI_Allreduce.")

    @Flag(help: "Print one JSON object per line (otherwise a table).") var json = false
    @Flag(help: "Include the paper configuration's gradient (~300M floats, 1.2 GB per rank).") var paper = false
    @Option(help: "Gradient bucket size in bytes.") var bucketBytes = 1 << 20
    @Option(help: "Repetitions per size (default: by size).") var reps: Int?
    @Option(help: "Comma-separated case names to run (e.g. 1MB,tiny); default all.") var only: String?

    func run() throws {
        try withCommunicator { comm in
            let names = only?.split(separator: ",").map(String.init) ?? []
            if comm.isRoot && !json {
                print("ranks \(comm.worldSize), bucket \(bucketBytes) bytes; times are medians, max over ranks")
                print("case         bytes      ours_ms    mpi_ms   bound_ms  memcpy_GB/s")
            }
            try AllreduceBench.run(comm, paper: paper, bucketBytes: bucketBytes, reps: reps, only: names) { row in
                guard comm.isRoot else { return }
                if json {
                    print(row.json)
                } else {
                    print(String(format: "%-8@ %12d %10.3f %9.3f %10.3f %12.2f", row.name as NSString, row.bytes,
                                 row.oursMs, row.mpiMs, row.boundMs, row.memcpyGBps))
                }
                fflush(stdout)
            }
        }
    }
}
