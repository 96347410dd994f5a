import ArgumentParser
import Foundation
import IFERTools

/// `mpirun -np N ifer bench shard`: images/s of the sharding coordinator against a Pillow + h5py
/// script on the same files (ShardBench.swift in IFERTools).
struct BenchShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shard", abstract: "Benchmark: ifer shard images/s vs a Pillow + h5py script.")

    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false
    @Option(help: "Source folder of images (default: generate --images PNGs of --source-resolution px).") var root: String?
    @Option(help: "Images to generate.") var images = 48
    @Option(name: .customLong("source-resolution"), help: "Side of the generated PNGs.") var sourceResolution = 1024
    @Option(help: "Shard resolution.") var resolution = 256
    @Option(help: "Scratch directory (kept; generated sources are reused by later runs).") var dir: String?
    @Option(help: "Python with Pillow and h5py: also run scripts/bench/shard_pillow.py on the same files.") var pillow: String?
    @Option(name: .customLong("pillow-script"), help: "Path of shard_pillow.py.") var pillowScript = "scripts/bench/shard_pillow.py"

    func run() throws {
        guard images >= 1, sourceResolution >= 1, resolution >= 1 else {
            throw ValidationError("--images, --source-resolution and --resolution must be positive")
        }
        var o = ShardBench.Options()
        o.root = root; o.images = images; o.sourceResolution = sourceResolution; o.resolution = resolution
        o.dir = dir; o.pillow = pillow; o.pillowScript = pillowScript
        try withCommunicator { comm in try ShardBench.run(comm, o) }
    }
}
