import ArgumentParser
import Foundation
import IFERTools

/// `ifer bench load --config FILE`: what `ifer predict` (an `ifer`-stage config) or `ifer invert`
/// (an `asit`-stage config) spends loading a checkpoint of that model, against one forward of one
/// image. Writes a real checkpoint of freshly initialised weights (with AdamW-sized optimizer
/// state under --optimizer, as a training checkpoint has), then, median over --repeats:
/// - `load_s`: TrainedClassifier.load / TrainedInverter.load, exactly what the commands call
///   (sidecar hash of the whole file, model construction, reading and verifying the tensors);
/// - `sidecar_s`: the whole-file hash alone (CheckpointReader.verifySidecar);
/// - `forward_s`: one [1, 3, S, S] image through the model (the command's forward).
/// Loads are from the page cache (the checkpoint was just written), as for a second call.
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Benchmark: checkpoint load vs one-image forward of predict / invert.")

    @Option(help: "A run config of the ifer or asit stage (e.g. configs/paper/ifer-rafdb.yaml).") var config: String
    @Flag(help: "Also store two moment tensors per parameter (AdamW state), as training checkpoints do.") var optimizer = false
    @Option(help: "Scratch directory (removed afterwards).") var dir: String?
    @Option(help: "Repetitions (median reported).") var repeats = 3
    @Flag(help: "Print JSON lines (the default output of every bench).") var json = false

    func run() throws {
        try LoadBench.run(config: config, optimizer: optimizer, dir: dir, repeats: repeats)
    }
}
