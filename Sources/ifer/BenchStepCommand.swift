import ArgumentParser
import IFERTools

struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "A stage's training-step throughput (images/s, FLOPs, MFU against sgemm), JSON lines.")

    @Option(help: "A run config (its train.stage is the stage timed).")
    var config: String = "configs/tiny/asit.yaml"

    @Option(name: .customLong("set"), help: "Override a config key, as for ifer train (repeatable).")
    var overrides: [String] = []

    @Option(help: "Batch size.")
    var batch: Int = 8

    @Option(help: "Comma-separated BLAS thread counts.")
    var threads: String = "1,2"

    @Option(help: "Minimum seconds of timed repetitions per thread count.")
    var minTime: Double = 3

    @Flag(help: "JSON lines (the only output format).")
    var json = false

    func run() throws {
        let ts = threads.split(separator: ",").compactMap { Int($0) }
        guard !ts.isEmpty, ts.allSatisfy({ $0 > 0 }), batch > 0 else {
            throw ValidationError("--threads must list positive integers and --batch must be positive")
        }
        try StepBench.run(configFile: config, overrides: overrides, batch: batch, threads: ts, minTime: minTime)
    }
}
