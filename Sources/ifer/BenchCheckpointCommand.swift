import ArgumentParser
import Foundation
import IFERTrain

/// `ifer bench checkpoint`: MB/s of writing and reading a checkpoint (checksums, fsync, renames,
/// sidecar) versus a plain fsynced HDF5 write/read of one buffer of the same size; median of 3.
/// Reads are timed twice: warm (page cache) and cold (the file's pages dropped first). The
/// `*_ratio` fields are checkpoint MB/s over plain HDF5 MB/s of the same run.
struct BenchCheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Benchmark: checkpoint write/read MB/s vs plain HDF5.")

    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false
    @Flag(help: "Also run the 'paper' size: 300 M floats (needs about 3.6 GB of memory and 1.2 GB of disk).") var paper = false
    @Option(help: "Scratch directory (removed afterwards).") var dir: String?
    @Option(help: "Repetitions per measurement (median reported).") var repeats = 3

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        var sizes: [(String, Int)] = [("tiny", 1_700_000)]
        if paper { sizes.append(("paper", 300_000_000)) }
        let base = dir ?? NSTemporaryDirectory() + "ifer-bench-checkpoint-\(getpid())"
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: base) } }
        for (label, floats) in sizes {
            let r = try CheckpointBench.run(label: label, floats: floats, dir: base + "/" + label, repeats: repeats)
            emitJSON(["bench": "checkpoint", "size": r.label, "floats": r.floats, "tensors": r.tensors, "mb": Double(r.bytes) / 1e6,
                      "ckpt_write_mb_s": r.checkpointWriteMBps, "ckpt_read_mb_s": r.checkpointReadMBps,
                      "h5_write_mb_s": r.plainWriteMBps, "h5_read_mb_s": r.plainReadMBps,
                      "ckpt_read_cold_mb_s": r.checkpointReadColdMBps, "h5_read_cold_mb_s": r.plainReadColdMBps,
                      "write_ratio": r.plainWrite / r.checkpointWrite, "read_ratio": r.plainRead / r.checkpointRead,
                      "read_cold_ratio": r.plainReadCold / r.checkpointReadCold,
                      "ckpt_write_s": r.checkpointWrite, "ckpt_read_s": r.checkpointRead, "ckpt_read_cold_s": r.checkpointReadCold,
                      "repeats": repeats])
        }
    }
}
