import ArgumentParser
import Foundation
import IFERTools

/// `ifer bench loader`: images/s the loader delivers at 32 px and 256 px (LoaderBench.swift in
/// IFERTools).
struct BenchLoaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "loader", abstract: "Benchmark: loader images/s at 32 and 256 px.")

    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false
    @Option(help: "Images per generated dataset.") var images = 128
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Seconds to measure each case.") var seconds = 2.0
    @Option(help: "Shard resolutions to measure (comma separated).") var resolutions = "32,256"
    @Option(help: "Existing shard folder to measure instead (its train split).") var shards: String?
    @Option(help: "Scratch directory (default: a temporary one, removed afterwards).") var dir: String?

    func run() throws {
        guard batch >= 1, images >= batch, seconds > 0 else { throw ValidationError("need --images >= --batch >= 1 and --seconds > 0") }
        let rs = resolutions.split(separator: ",").compactMap { Int($0) }
        guard shards != nil || (!rs.isEmpty && rs.allSatisfy { $0 > 0 }) else {
            throw ValidationError("--resolutions must list positive integers, got '\(resolutions)'")
        }
        var o = LoaderBench.Options()
        o.images = images; o.batch = batch; o.seconds = seconds; o.resolutions = rs; o.shards = shards; o.dir = dir
        try LoaderBench.run(o)
    }
}
