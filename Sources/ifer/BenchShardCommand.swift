import ArgumentParser
import IFERTrain

struct BenchShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shard", abstract: "Benchmark: shard.")

    func run() throws {
        throw ValidationError("ifer bench shard is not implemented yet")
    }
}
