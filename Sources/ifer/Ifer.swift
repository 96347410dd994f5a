import ArgumentParser
import IFERTrain

@main
struct Ifer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ifer",
        abstract: "IFER-Swift: data-parallel ASIT / IFER training on a float32 tensor core (OpenBLAS, Open MPI, HDF5).",
        // Each subcommand lives in its own file: <Name>Command.swift.
        subcommands: [SynthCommand.self, ShardCommand.self, TrainCommand.self, EvalCommand.self, PredictCommand.self, InvertCommand.self, InspectCommand.self,
                      BenchCommand.self, DevCommand.self])
}
