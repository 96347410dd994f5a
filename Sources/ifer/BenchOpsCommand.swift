import ArgumentParser
import IFERTools

struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Tensor-core op benchmarks against raw OpenBLAS (JSON lines; compare with shared/peers via scripts/bench/compare_ops.py).")

    @Flag(help: "Print JSON lines (the only output format; kept for symmetry with the other benchmarks).")
    var json = false

    @Option(help: "Comma-separated BLAS thread counts.")
    var threads: String = "1,2"

    @Option(help: "Comma-separated case names (default: all).")
    var cases: String = OpsBench.caseNames.joined(separator: ",")

    @Option(help: "Minimum seconds of timed repetitions per case.")
    var minTime: Double = 1.0

    func run() throws {
        let ts = threads.split(separator: ",").compactMap { Int($0) }
        guard !ts.isEmpty, ts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--threads must list positive integers, got '\(threads)'") }
        try OpsBench.run(threads: ts, cases: cases.split(separator: ",").map(String.init), minTime: minTime)
    }
}
