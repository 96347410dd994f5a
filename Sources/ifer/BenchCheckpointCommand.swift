import ArgumentParser
import IFERTools

/// `ifer bench checkpoint`: MB/s of writing and reading a checkpoint (checksums, fsync, renames,
/// sidecar) versus a plain fsynced HDF5 write/read of one buffer of the same size; median of 3.
/// The measurement is CheckpointBench.swift in IFERTools. Reads are timed twice: warm (page
/// cache) and cold (the file's pages dropped first). The `*_ratio` fields are checkpoint MB/s over plain HDF5 MB/s of the same run.
struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Benchmark: checkpoint write/read MB/s vs plain HDF5.")

    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false
    @Flag(help: "Also run the 'paper' size: 300 M floats (needs about 3.6 GB of memory and 1.2 GB of disk).") var paper = false
    @Option(help: "Scratch directory (removed afterwards).") var dir: String?
    @Option(help: "Repetitions per measurement (median reported).") var repeats = 3

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        try CheckpointBench.run(paper: paper, dir: dir, repeats: repeats)
    }
}
