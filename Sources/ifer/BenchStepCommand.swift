import ArgumentParser
import IFERTrain

struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "step", abstract: "Benchmark: step.")

    func run() throws {
        throw ValidationError("ifer bench step is not implemented yet")
    }
}
