import ArgumentParser
import IFERTrain

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Render a synthetic face dataset in a real dataset layout.")

    func run() throws {
        throw ValidationError("ifer synth is not implemented yet")
    }
}
