import ArgumentParser
import IFERTrain

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a config's networks or a checkpoint's contents.")

    @Option(name: .long, help: "A run config (YAML): list its networks, parameter counts and forward MACs.")
    var config: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        if let config {
            print(try inspectConfig(file: config, json: json))
            return
        }
        throw ValidationError("ifer inspect needs --config FILE")
    }
}
