import ArgumentParser
import IFERTrain

struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shard", abstract: "Shard a dataset into HDF5 files (run under mpirun).")

    func run() throws {
        throw ValidationError("ifer shard is not implemented yet")
    }
}
