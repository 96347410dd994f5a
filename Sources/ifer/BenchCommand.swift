import ArgumentParser
import IFERTools

/// `ifer bench <case>`: benchmarks that print one JSON line per measurement.
/// Each benchmark is its own subcommand in Bench<Name>Command.swift.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks; each prints JSON lines.",
        subcommands: [BenchOpsCommand.self, BenchAllreduceCommand.self, BenchLoaderCommand.self,
                      BenchShardCommand.self, BenchStepCommand.self, BenchCheckpointCommand.self, BenchMemoryCommand.self,
                      BenchLoadCommand.self])
}
