import ArgumentParser
import IFERTrain

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a config's networks or a checkpoint's contents.")

    func run() throws {
        throw ValidationError("ifer inspect is not implemented yet")
    }
}
