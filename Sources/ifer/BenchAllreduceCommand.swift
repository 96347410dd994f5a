import ArgumentParser
import IFERTrain

struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce", abstract: "Benchmark: allreduce.")

    func run() throws {
        throw ValidationError("ifer bench allreduce is not implemented yet")
    }
}
