import ArgumentParser
import IFERTrain

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a stage (run under mpirun).")

    func run() throws {
        throw ValidationError("ifer train is not implemented yet")
    }
}
