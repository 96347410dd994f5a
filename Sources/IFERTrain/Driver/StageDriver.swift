import Foundation
import Logging

/// The one training loop, for every stage (nanoGPT's train.py, as a class):
///
///     start:   loaders from the stage's `StageData`; the stage's networks; resume from the
///              newest checkpoint that loads (or a fresh start)
///     loop:    batch = trainLoader.next()           (the loader crosses epochs itself)
///              losses = stage.trainStep(batch)      (forward, backward + all-reduce, update)
///              every log.every steps: the losses all-reduced, one progress line, metrics.jsonl
///              every dist.replica_check_every steps: parameter hashes compared across ranks
///              every train.eval_every steps: stage.evaluate
///              every checkpoint.every steps, at the end, and when preempted: a checkpoint
///     end:     stage.evaluate once more
///
/// Only rank 0 prints and writes files; every rank runs the same collectives in the same order.
public final class StageDriver {
    public let config: RunConfig
    public let comm: Communicator
    public let runDir: String
    let log: Logger
    public let stage: TrainingStage
    let stageType: TrainingStage.Type
    /// This rank's training batches (benchmarks take a fixed batch from it).
    public let trainLoader: Loader
    let evalLoader: Loader
    let schedule: Schedule
    let guardian: StepGuard
    let preemption: Preemption?
    public private(set) var step = 0
    public private(set) var lastEvaluation: Evaluation?

    public init(config: RunConfig, comm: Communicator, runDir: String, log: Logger, preemption: Preemption? = nil) throws {
        self.config = config
        self.comm = comm
        self.runDir = runDir
        self.log = log
        self.preemption = preemption
        let c = config
        stageType = try StageTable.stage(named: c.train.stage)
        let data = try stageType.data(c)
        let ranks = comm.worldSize, micro = data.allowsMicroBatches ? c.train.microBatches : 1
        guard data.allowsMicroBatches || c.train.microBatches == 1 else {
            throw ConfigError.badValue(path: "train.micro_batches", detail: "the \(c.train.stage) stage does not accumulate gradients; use 1")
        }
        guard c.train.batchSize % (ranks * micro) == 0, c.train.batchSize / ranks >= data.minLocalBatch else {
            let detail = micro > 1 ? "\(ranks) ranks x \(micro) micro-batches" : "\(ranks) rank(s)"
            throw ConfigError.badValue(path: "train.batch_size",
                                       detail: "global batch \(c.train.batchSize) must split evenly over \(detail), at least \(data.minLocalBatch) per rank")
        }
        let local = c.train.batchSize / ranks, seed = UInt64(c.train.seed)
        trainLoader = try Loader(path: c.data.shards, split: "train", batchSize: local, seed: seed, rank: comm.rank, worldSize: ranks,
                                 training: true, augmentation: data.trainAugmentation, prefetch: c.data.prefetch)
        evalLoader = try Loader(path: c.data.shards, split: c.data.evalSplit, batchSize: local, seed: seed, rank: comm.rank, worldSize: ranks,
                                training: false, augmentation: data.evalAugmentation, prefetch: 0)
        guardian = try StepGuard(policy: c.train.onNonFinite, maxSkippedInARow: c.train.maxSkippedSteps, comm: comm, log: log)
        schedule = makeSchedule(c.optim, totalSteps: c.train.steps)
        stage = try stageType.init(StageContext(config: c, comm: comm, runDir: runDir, log: log, trainLoader: trainLoader,
                                                evalLoader: evalLoader, schedule: schedule, guardian: guardian))
    }

    /// Identifies the networks in checkpoints: the stage's family and a hash of every tensor's key
    /// and shape, so resuming into another architecture is refused with a clear message.
    var architecture: String {
        let desc = (stage.checkpointParams + stage.checkpointBuffers).map { "\($0.key)\($0.tensor.shape)" }.joined(separator: ";")
        return stageType.architectureFamily + "-" + String(FNV1a.hash(desc), radix: 16)
    }

    // MARK: start

    /// Resumes (`auto`, `none` or a path; see `Resume`) or starts fresh. Returns what happened.
    public func start(resume spec: String) throws -> String {
        var tried: [String] = []
        while true {
            let decision = try Resume.resolveCollective(spec, runDir: runDir, comm: comm, excluding: tried)
            for w in decision.warnings { log.warning("\(w)") }
            guard let path = decision.path else {
                if tried.isEmpty && !decision.foundCheckpoints { return try stage.freshStart() }
                throw TrainingError.noUsableCheckpoint(runDir: runDir, detail: "no checkpoint could be resumed from; found: "
                    + (decision.warnings + tried.map { "\($0) failed to load" }).joined(separator: "; ")
                    + ". Nothing was changed: fix or move these files, resume from a path with --resume PATH, or use a new --run-dir")
            }
            do {
                let said = try restore(path)
                try agree(true)
                try quarantine(decision.unreadable + tried)
                return said
            } catch {
                // Every rank reads the same file, but a failure on any rank must be seen by all.
                try agree(false)
                guard spec == "auto" else { throw error }
                if comm.isRoot { log.warning("cannot resume from \(path): \(error); trying the previous checkpoint") }
                tried.append(path)
            }
        }
    }

    /// Checkpoints that could not be read are renamed `<name>.unreadable-<time>` (rank 0), so the
    /// continuing run neither writes over them nor rotates them away: their bytes stay for a look.
    private func quarantine(_ paths: [String]) throws {
        guard comm.isRoot else { return }
        for p in paths {
            if let moved = try CheckpointWriter.moveAside(p, suffix: "unreadable") {
                log.warning("kept \(p), which could not be resumed from, as \(moved)")
            }
        }
    }

    /// Throws on every rank unless `ok` holds on every rank.
    private func agree(_ ok: Bool) throws {
        var v: [Double] = [ok ? 0 : 1]
        try v.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: 1) }
        if v[0] > 0 && ok { throw CheckpointError(.io, path: runDir, "another rank failed to load the checkpoint") }
    }

    func restore(_ path: String) throws -> String {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: stageType.name, architecture: architecture)
        let ranks = try r.ranks()
        let same = ranks.count == comm.worldSize
        guard !ranks.isEmpty else { throw CheckpointError(.corrupt, path: path, "holds no rank states") }
        try r.loadInto(params: stage.checkpointParams, buffers: stage.checkpointBuffers)
        try stage.restore(optimizersFrom: r, ranks: ranks, sameWorld: same, step: r.header.step)
        step = r.header.step
        // The loader re-splits the same global position on another world size.
        try trainLoader.restore(ranks[same ? comm.rank : 0].cursor)
        if comm.isRoot { try Progress.truncateMetrics(runDir: runDir, afterStep: step) }
        let other = same ? "" : " on \(comm.worldSize) ranks (saved on \(ranks.count)): loader re-split, per-rank RNG streams re-derived"
        return "resumed from \(path) at step \(step)" + other
    }

    // MARK: loop

    /// Trains until `train.steps` (or `train.stop_after` more steps), evaluating and checkpointing
    /// on schedule; returns the final evaluation. A preemption signal ends it early with
    /// `TrainingError.preempted` after a checkpoint.
    @discardableResult
    public func run() throws -> Evaluation {
        let c = config
        let end = c.train.stopAfter > 0 ? min(c.train.steps, step + c.train.stopAfter) : c.train.steps
        let progress = try Progress(total: c.train.steps, runDir: comm.isRoot ? runDir : nil, enabled: comm.isRoot, bar: c.log.bar)
        progress.begin(at: step)
        let terms = stage.lossTerms
        var sums = [Double](repeating: 0, count: terms.count + 1)   // + the number of steps summed
        var seen = 0, t0 = MonotonicClock.now()
        while step < end {
            comm.watchdog?.beginStep(step)
            let losses = try stage.trainStep(try trainLoader.next(), step: step)
            for (i, t) in terms.enumerated() { sums[i] += losses[t] ?? 0 }
            sums[terms.count] += 1
            seen += c.train.batchSize
            step += 1
            if step % c.log.every == 0 || step == end {
                try sums.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
                let n = max(sums[terms.count], 1)
                progress.step(step, epoch: trainLoader.epoch, losses: zip(terms, sums).map { ($0.rawValue, $1 / n) },
                              lr: schedule.lr(at: step - 1), imagesPerSecond: Double(seen) / max(MonotonicClock.now() - t0, 1e-9))
                sums = sums.map { _ in 0 }; seen = 0; t0 = MonotonicClock.now()
            }
            if c.dist.allreduce && c.dist.replicaCheckEvery > 0 && step % c.dist.replicaCheckEvery == 0 {
                for dp in stage.replicas { try dp.checkReplicas(step: step) }
            }
            if c.train.evalEvery > 0 && step % c.train.evalEvery == 0 && step < end { try evaluate(progress) }
            let preempted = try preemption?.anyRank(comm) ?? false
            if step % c.checkpoint.every == 0 || step == end || preempted {
                let path = try save()
                if preempted {
                    progress.finish()
                    throw TrainingError.preempted(step: step, checkpoint: path)
                }
            }
        }
        let result = try evaluate(progress)
        progress.finish()
        return result
    }

    @discardableResult
    func evaluate(_ progress: Progress) throws -> Evaluation {
        let e = try stage.evaluate(step: step)
        progress.eval(step, e.record, summary: e.summary)
        lastEvaluation = e
        return e
    }

    // MARK: checkpoints

    @discardableResult
    public func save() throws -> String {
        try stage.willCheckpoint(step: step)
        var state = CheckpointState(stage: stageType.name, step: step, epoch: trainLoader.epoch, worldSize: comm.worldSize,
                                    config: config.resolvedYAML, architecture: architecture,
                                    params: stage.checkpointParams, buffers: stage.checkpointBuffers,
                                    optimizers: try stage.optimizerStates(step: step))
        state.classNames = stage.classNames
        let path = try CheckpointWriter.saveCollective(state, local: RankState(rng: stage.rankRNG, cursor: trainLoader.cursor),
                                                       runDir: runDir, keep: config.checkpoint.keep, comm: comm)
        if comm.isRoot { log.info("checkpoint \(path)") }
        return path
    }
}
