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
            if comm.isRoot, let restarts = ProcessInfo.processInfo.environment["SLURM_RESTART_COUNT"] {
                log.info("slurm restart count: \(restarts)")
            }
            let driver = try StageDriver(config: cfg, comm: comm, runDir: runDir, log: log, preemption: Preemption())
            let start = try driver.start(resume: resume)
            // Only once the run is sure to go on (resumed or fresh) does it write into the folder.
            if comm.isRoot {
                try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
                try cfg.resolvedYAML.write(toFile: runDir + "/config.yaml", atomically: true, encoding: .utf8)
            }
            try comm.barrier()
            if comm.isRoot {
                log.info("\(cfg.train.stage) stage: \(comm.worldSize) rank(s) x \(threads) BLAS thread(s), global batch \(cfg.train.batchSize), \(driver.stage.summary); \(start)")
            }
            let result: Evaluation
            do { result = try driver.run() } catch let TrainingError.preempted(step, checkpoint) {
                if comm.isRoot { log.info("preempted at step \(step): checkpoint \(checkpoint) written; exiting with \(Preemption.exitCode) for requeue (resume with --resume auto)") }
                finalizeCommunicator()
                Foundation.exit(Preemption.exitCode)
            }
            if comm.isRoot { print("final \(result.headline); run folder: \(runDir)") }
        } catch {
            if comm.worldSize == 1 { throw error }
            comm.abort("[rank \(comm.rank)] error: \(error)", code: 1)
        }
        finalizeCommunicator()
    }
}
