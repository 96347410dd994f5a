import ArgumentParser
import IFERTrain

struct BenchOpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "Benchmark: ops.")

    func run() throws {
        throw ValidationError("ifer bench ops is not implemented yet")
    }
}
