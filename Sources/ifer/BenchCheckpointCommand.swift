import ArgumentParser
import IFERTrain

struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Benchmark: checkpoint.")

    func run() throws {
        throw ValidationError("ifer bench checkpoint is not implemented yet")
    }
}
