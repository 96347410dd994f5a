import ArgumentParser
import IFERTools

struct BenchMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak memory (live tensor storage, ru_maxrss) of the asit stage's training step, or of one IFER-classifier forward and backward, against the analytic sum (JSON).")

    @Option(help: "An asit run config (the stage's step) or an IFER model config (encoder + ifer_head).")
    var config: String = "configs/paper/ifer-rafdb.yaml"

    @Option(help: "Batch size.")
    var batch: Int = 1

    @Option(help: "Overrides model.activation_checkpointing: none, encoder_blocks, generator or all.")
    var checkpointing: String?

    @Option(help: "Timed steps after the warm-up one (asit configs).")
    var steps: Int = 2

    @Option(name: .customLong("set"), help: "Config override key=value (repeatable).")
    var overrides: [String] = []

    @Flag(help: "JSON (the only output format).")
    var json = false

    func run() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        try MemoryBench.run(configFile: config, batch: batch, checkpointing: checkpointing, overrides: overrides, steps: steps)
    }
}
