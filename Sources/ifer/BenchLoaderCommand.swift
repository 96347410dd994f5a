import ArgumentParser
import IFERTrain

struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loader", abstract: "Benchmark: loader.")

    func run() throws {
        throw ValidationError("ifer bench loader is not implemented yet")
    }
}
