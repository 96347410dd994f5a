import ArgumentParser
import Foundation
import IFERTrain

/// `ifer eval --checkpoint CKPT|RUN_DIR [--shards DIR] [--split test] [--out DIR] [--json]`:
/// top-1, per-class accuracy and the confusion matrix of an `ifer`-stage checkpoint; for an
/// `asit`-stage checkpoint MSE, PSNR, SSIM (LPIPS when loss.lpips_weights is set) and seconds
/// per image beside two baselines (the untrained encoder, the mean face G(latent_avg)), and with
/// --out a PNG grid. As one process or with every rank evaluating its share under mpirun.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate an ifer- or asit-stage checkpoint on a split of HDF5 shards (one process or under mpirun).")

    @Option(help: "A checkpoint file, or a run folder (its newest valid checkpoint).")
    var checkpoint: String

    @Option(help: "Shard folder (default: data.shards of the checkpoint's config).")
    var shards: String?

    @Option(help: "Split to evaluate (default: data.eval_split of the checkpoint's config).")
    var split: String?

    @Option(help: "Folder for eval.json and confusion.csv (ifer) or grid.png (asit) (default: print only).")
    var out: String?

    @Option(help: "asit: the run config for a checkpoint that holds none (a converted one), e.g. configs/paper/asit-ffhq.yaml.")
    var config: String?

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
        let stage = try { () throws -> String in
            let r = try CheckpointReader(path: path)
            defer { r.close() }
            return r.header.stage
        }()
        if stage == InversionStage.name { return try evaluateInversion(path, comm) }
        guard stage == ClassifierStage.name else {
            throw ValidationError("\(path) is a checkpoint of stage '\(stage)'; ifer eval evaluates stages '\(ClassifierStage.name)' and '\(InversionStage.name)'")
        }
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

extension EvalCommand {
    /// The asit branch: every rank inverts its share of the split with the trained encoder, the
    /// untrained one (random init from train.seed) and the mean face; rank 0 prints and writes.
    private func evaluateInversion(_ path: String, _ comm: Communicator) throws {
        let inverter = try TrainedInverter.load(path, configFile: config)
        let cfgText: String
        if let config {
            cfgText = try String(contentsOfFile: config, encoding: .utf8)
        } else {
            cfgText = inverter.header.config
        }
        let cfg = try RunConfig.parse(cfgText, source: config ?? path + " (config attribute)")
        let untrained = try inverter.untrainedTwin(seed: UInt64(cfg.train.seed))
        var lpips: LPIPS?
        if !cfg.loss.lpipsWeights.isEmpty {
            let net = LPIPS()
            let r = try CheckpointReader(path: cfg.loss.lpipsWeights)
            defer { r.close() }
            try r.checkCompatible(stage: "lpips")
            try r.loadInto(params: net.namedParameters(), buffers: net.namedBuffers())
            lpips = net
        }
        let shardDir = shards ?? cfg.data.shards, splitName = split ?? cfg.data.evalSplit
        let size = inverter.inputSize
        let loader = try Loader(path: shardDir, split: splitName, batchSize: batch, seed: UInt64(cfg.train.seed), rank: comm.rank,
                                worldSize: comm.worldSize, training: false, augmentation: Augmentation(outputSize: size), prefetch: 1)
        defer { loader.stop() }
        let e = try IFERTrain.evaluateInversion(trained: inverter.asit, untrained: untrained, lpips: lpips, loader: loader, comm: comm)
        guard comm.isRoot else { return }
        var record: [String: Any] = e.record(withLPIPS: lpips != nil)
        record["checkpoint"] = path
        record["step"] = inverter.header.step
        record["shards"] = shardDir
        record["split"] = splitName
        record["ranks"] = comm.worldSize
        record["stage"] = InversionStage.name
        let line = String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try writePNG(RGBImage.grid(e.grid, gutter: 2), path: out + "/grid.png")
            try (line + "\n").write(toFile: out + "/eval.json", atomically: true, encoding: .utf8)
        }
        if json { print(line); return }
        let m = e.record(withLPIPS: lpips != nil)
        print(String(format: "%@ (step %d) on %@/%@: %d images, %.4f s per image", path, inverter.header.step, shardDir, splitName,
                     Int(e.trained.images), m["seconds_per_image"] ?? 0))
        print("                 MSE       PSNR dB   SSIM" + (lpips != nil ? "     LPIPS" : ""))
        for (name, suffix) in [("trained", ""), ("untrained", "_untrained"), ("mean face", "_mean_face")] {
            var row = name.padding(toLength: 12, withPad: " ", startingAt: 0)
            row += String(format: "  %8.5f  %8.3f  %7.4f", m["mse" + suffix] ?? 0, m["psnr" + suffix] ?? 0, m["ssim" + suffix] ?? 0)
            if lpips != nil { row += String(format: "  %7.4f", m["lpips" + suffix] ?? 0) }
            print(row)
        }
        if let out { print("wrote \(out)/grid.png (rows: source, reconstruction, untrained, mean face) and \(out)/eval.json") }
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
