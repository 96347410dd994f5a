import ArgumentParser
import Foundation
import IFERTools

/// `mpirun -np 2 ifer bench allreduce --json`: gradient all-reduce through the data-parallel path
/// (bucketed, overlapping thread) against one raw MPI_Allreduce, per buffer size; see
/// Sources/IFERTools/AllreduceBench.swift and docs/benchmarks.md.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce", abstract: "Benchmark: gradient all-reduce, bucketed data-parallel path vs raw MPI_Allreduce.")

    @Flag(help: "Print one JSON object per line (otherwise a table).") var json = false
    @Flag(help: "Include the paper configuration's gradient (~269M floats, 1.07 GB per rank).") var paper = false
    @Option(help: "Gradient bucket size in bytes.") var bucketBytes = 1 << 20
    @Option(help: "Repetitions per size (default: by size).") var reps: Int?
    @Option(help: "Comma-separated case names to run (e.g. 1MB,tiny); default all.") var only: String?
    @Option(help: "Folder of the model configs whose gradient sizes are the micro, tiny and paper cases.") var configs = "configs"

    func run() throws {
        try withCommunicator { comm in
            let names = only?.split(separator: ",").map(String.init) ?? []
            if comm.isRoot && !json {
                print("ranks \(comm.worldSize), bucket \(bucketBytes) bytes; times are medians, max over ranks")
                print(AllreduceBench.tableHeader)
            }
            try AllreduceBench.run(comm, paper: paper, bucketBytes: bucketBytes, reps: reps, only: names, configs: configs) { row in
                guard comm.isRoot else { return }
                if json { row.emit() } else { print(row.tableLine); fflush(stdout) }
            }
        }
    }
}
