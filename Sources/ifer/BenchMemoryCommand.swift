import ArgumentParser
import IFERTools

struct BenchMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak tensor memory of one IFER-classifier forward and backward against parameters + gradients + tape activations (JSON).")

    @Option(help: "An IFER model config (encoder + ifer_head).")
    var config: String = "configs/paper/ifer-rafdb.yaml"

    @Option(help: "Batch size.")
    var batch: Int = 1

    @Flag(help: "JSON (the only output format).")
    var json = false

    func run() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        try MemoryBench.run(configFile: config, batch: batch)
    }
}
