import ArgumentParser
import Foundation
import IFERTrain

/// `ifer eval --checkpoint CKPT|RUN_DIR [--shards DIR] [--split test] [--out DIR] [--json]`:
/// top-1, per-class accuracy and the confusion matrix of an `ifer`-stage checkpoint, as one
/// process or with every rank evaluating its share under mpirun.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate an ifer-stage checkpoint on a split of HDF5 shards (one process or under mpirun).")

    @Option(help: "A checkpoint file, or a run folder (its newest valid checkpoint).")
    var checkpoint: String

    @Option(help: "Shard folder (default: data.shards of the checkpoint's config).")
    var shards: String?

    @Option(help: "Split to evaluate (default: data.eval_split of the checkpoint's config).")
    var split: String?

    @Option(help: "Folder for confusion.csv and eval.json (default: print only).")
    var out: String?

    @Option(help: "Images per rank per batch.")
    var batch: Int = 32

    @Flag(help: "Print the result as one JSON line.")
    var json = false

    func run() throws {
        let comm = makeCommunicator()
        _ = setDefaultThreads(comm)
        bootstrapRankLogging(rank: comm.rank)
        do {
            try evaluate(comm)
        } catch {
            if comm.worldSize == 1 { throw error }
            comm.abort("[rank \(comm.rank)] error: \(error)", code: 1)
        }
        finalizeCommunicator()
    }

    private func evaluate(_ comm: Communicator) throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        let path = try resolveCheckpoint(checkpoint, comm: comm)
        let trained = try TrainedClassifier.load(path)
        let model = trained.model, cfg = trained.config
        let shardDir = shards ?? cfg.data.shards, splitName = split ?? cfg.data.evalSplit
        let loader = try Loader(path: shardDir, split: splitName, batchSize: batch, seed: UInt64(cfg.train.seed), rank: comm.rank,
                                worldSize: comm.worldSize, training: false, augmentation: cfg.data.evalAugmentation(size: model.inputSize),
                                prefetch: 1)
        defer { loader.stop() }
        let names = loader.dataset.classNames
        guard names.count == model.classes else {
            throw ValidationError("\(shardDir) has \(names.count) classes (\(names.joined(separator: ", "))) but \(path) classifies \(model.classes)")
        }
        let cm = try evaluateClassifier(model, loader: loader, comm: comm)
        guard comm.isRoot else { return }
        let perClass = zip(names, cm.perClassAccuracy).map { ($0, $1.isNaN ? -1 : $1) }
        let record: [String: Any] = [
            "checkpoint": path, "step": trained.header.step, "shards": shardDir, "split": splitName, "samples": cm.total,
            "accuracy": cm.accuracy, "per_class_accuracy": Dictionary(uniqueKeysWithValues: perClass), "class_names": names,
            "confusion": cm.rows, "ranks": comm.worldSize,
        ]
        let line = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try cm.writeCSV(names: names, to: out + "/confusion.csv")
            try (line + "\n").write(toFile: out + "/eval.json", atomically: true, encoding: .utf8)
        }
        if json { print(line); return }
        print(String(format: "%@ (step %d) on %@/%@: top-1 %.2f%% on %d images", path, trained.header.step, shardDir, splitName,
                     cm.accuracy * 100, cm.total))
        for (name, acc) in perClass {
            print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + (acc < 0 ? "no samples" : String(format: "%6.2f%%", acc * 100)))
        }
        if let out { print("wrote \(out)/confusion.csv and \(out)/eval.json") }
    }
}

/// A checkpoint path as given, or the newest valid checkpoint of a run folder (rank 0 decides
/// and broadcasts, as `train --resume auto` does).
func resolveCheckpoint(_ spec: String, comm: Communicator) throws -> String {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDir) else {
        throw ValidationError("no such checkpoint or run folder: \(spec)")
    }
    guard isDir.boolValue else { return spec }
    let decision = try Resume.resolveCollective("auto", runDir: spec, comm: comm)
    guard let path = decision.path else {
        throw ValidationError("\(spec) holds no valid checkpoint (looked in \(spec)/checkpoints)"
                              + (decision.warnings.isEmpty ? "" : ": " + decision.warnings.joined(separator: "; ")))
    }
    // Never answer silently with an older model: say which checkpoint is used and what was skipped.
    for w in decision.warnings {
        FileHandle.standardError.write(Data("warning: \(spec): \(w)\n".utf8))
    }
    if !decision.warnings.isEmpty {
        FileHandle.standardError.write(Data("warning: \(spec): using \(path), not the newest checkpoint file\n".utf8))
    }
    return path
}
