import ArgumentParser
import IFERTools

struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "ASIT encoder training-step throughput (images/s, MACs per image, MFU against sgemm), JSON lines.")

    @Option(help: "An ASIT model config (encoder, generator, discriminator sections).")
    var config: String = "configs/tiny/asit.yaml"

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
        try StepBench.run(configFile: config, batch: batch, threads: ts, minTime: minTime)
    }
}
