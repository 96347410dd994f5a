import ArgumentParser
import Foundation
import IFERTrain
import Logging

/// `ifer train --config FILE [--set key=value]... [--run-dir DIR] [--resume auto|none|PATH]`,
/// as one process or under mpirun (each rank runs this same command).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a stage (as one process, or every rank under mpirun).")

    @Option(help: "YAML run config (sections model, data, train, optim, loss, dist, checkpoint, log).")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config key by its dotted path, e.g. --set train.steps=100 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Run folder: checkpoints, metrics.jsonl, config.yaml, confusion.csv.")
    var runDir: String = "runs/train"

    @Option(help: "auto (newest valid checkpoint in the run folder, if any), none, or a checkpoint path.")
    var resume: String = "auto"

    func run() throws {
        let comm = makeCommunicator()
        let threads = setDefaultThreads(comm)
        bootstrapRankLogging(rank: comm.rank)
        let log = Logger(label: "ifer.train")
        do {
            let cfg = try RunConfig.load(file: config, overrides: overrides)
            if cfg.dist.timeoutSeconds > 0 {
                _ = Watchdog.install(on: comm, collectiveTimeout: Double(cfg.dist.timeoutSeconds), stepTimeout: Double(cfg.dist.timeoutSeconds))
            }
            if comm.isRoot {
                try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
                try cfg.resolvedYAML.write(toFile: runDir + "/config.yaml", atomically: true, encoding: .utf8)
            }
            try comm.barrier()
            switch cfg.train.stage {
            case "ifer":
                let model = try makeClassifier(cfg)
                let trainer = try ClassifierTrainer(config: cfg, comm: comm, runDir: runDir, model: model, log: log)
                let start = try trainer.prepare(resume: resume)
                if comm.isRoot {
                    log.info("ifer stage: \(comm.worldSize) rank(s) x \(threads) BLAS thread(s), global batch \(cfg.train.batchSize), \(model.parameterCount) parameters; \(start)")
                }
                let cm = try trainer.run()
                if comm.isRoot, let cm {
                    print(String(format: "final top-1 accuracy: %.2f%% (%d %@ images); run folder: %@",
                                 cm.accuracy * 100, cm.total, cfg.data.evalSplit, runDir))
                }
            case "asit":
                let trainer = try InversionTrainer(config: cfg, comm: comm, runDir: runDir, log: log)
                let start = try trainer.prepare(resume: resume)
                if comm.isRoot {
                    log.info("asit stage: \(comm.worldSize) rank(s) x \(threads) BLAS thread(s), global batch \(cfg.train.batchSize), encoder \(trainer.encoderParameterCount) / discriminator \(trainer.discriminatorParameterCount) trainable parameters; \(start)")
                }
                let r = try trainer.run()
                if comm.isRoot {
                    print(String(format: "final validation loss: %.4f (l2 %.4f, %d %@ images); run folder: %@",
                                 r["val_loss"] ?? .nan, r["l2"] ?? .nan, Int(r["images"] ?? 0), cfg.data.evalSplit, runDir))
                }
            default:
                throw ConfigError.badValue(path: "train.stage", detail: "stage '\(cfg.train.stage)' cannot be trained yet; this build trains the 'ifer' and 'asit' stages")
            }
        } catch {
            if comm.worldSize == 1 { throw error }
            comm.abort("[rank \(comm.rank)] error: \(error)", code: 1)
        }
        finalizeCommunicator()
    }
}
