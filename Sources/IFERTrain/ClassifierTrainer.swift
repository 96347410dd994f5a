import Foundation
import Logging

/// The `ifer` stage: expression classification with the ASIT encoder and the IFER head,
/// data-parallel over the communicator's ranks.
///
/// One optimizer step: every rank takes its slice of the global batch from the deterministic
/// loader, mixes it (mixup / cutmix, soft targets with label smoothing), runs forward and backward
/// with the gradient all-reduce overlapped (DataParallel), then clips the averaged gradient by its
/// global norm and applies AdamW (or the configured optimizer) with the scheduled learning rate.
/// Every rank does identical updates, so replicas stay identical; a hash check verifies it.
public final class ClassifierTrainer {
    public let config: RunConfig
    public let comm: Communicator
    public let runDir: String
    let model: ImageClassifier
    let params: [(String, Tensor)]
    let buffers: [(String, Tensor)]
    let flat: FlatBuffer
    let dp: DataParallel
    let optimizer: Optimizer
    let schedule: Schedule
    let trainLoader: Loader
    let evalLoader: Loader
    let mixup: Mixup
    let log: Logger
    /// This rank's generator for batch-level randomness (mixup); saved in checkpoints.
    var rng: Philox
    public private(set) var step = 0
    public private(set) var lastEval: ConfusionMatrix?

    public init(config: RunConfig, comm: Communicator, runDir: String, model: ImageClassifier, log: Logger) throws {
        self.config = config
        self.comm = comm
        self.runDir = runDir
        self.model = model
        self.log = log
        let c = config
        guard c.train.batchSize % (comm.worldSize * c.train.microBatches) == 0 else {
            throw ConfigError.badValue(path: "train.batch_size", detail: "global batch \(c.train.batchSize) does not split evenly over \(comm.worldSize) ranks x \(c.train.microBatches) micro-batches")
        }
        let local = c.train.batchSize / comm.worldSize
        let seed = UInt64(c.train.seed)
        let size = model.inputSize        // shards of another resolution are resampled to it
        let aug: Augmentation = c.data.augment
            ? Augmentation(outputSize: size, flip: c.data.flip ? 0.5 : 0, resizedCropScale: c.data.cropScaleMin...1, erasing: c.data.erasing)
            : Augmentation(outputSize: size)
        trainLoader = try Loader(path: c.data.shards, split: "train", batchSize: local, seed: seed, rank: comm.rank,
                                 worldSize: comm.worldSize, training: true, augmentation: aug, prefetch: c.data.prefetch)
        evalLoader = try Loader(path: c.data.shards, split: c.data.evalSplit, batchSize: local, seed: seed, rank: comm.rank,
                                worldSize: comm.worldSize, training: false, augmentation: c.data.evalAugmentation(size: size), prefetch: 0)
        let dataClasses = trainLoader.dataset.classNames.count
        guard dataClasses == model.classes else {
            throw ConfigError.badValue(path: "model.ifer_head.num_classes",
                                       detail: "the model has \(model.classes) classes but \(c.data.shards) has \(dataClasses) (\(trainLoader.dataset.classNames.joined(separator: ", ")))")
        }

        params = model.namedParameters()
        buffers = model.namedBuffers()
        for (k, t) in params + buffers { t.name = k }
        flat = FlatBuffer(params.map(\.1), withGradients: true)
        dp = try DataParallel(flat, comm: comm, buffers: buffers.map(\.1), bucketBytes: Int(c.dist.bucketMB * 1_048_576))
        dp.requireSync = c.dist.allreduce
        optimizer = try makeOptimizer(flat, c.optim)
        schedule = makeSchedule(c.optim, totalSteps: c.train.steps)
        let l = c.loss
        mixup = Mixup(mixupAlpha: c.data.augment ? l.mixupAlpha : 0, cutmixAlpha: c.data.augment ? l.cutmixAlpha : 0,
                      prob: l.mixupProb, switchProb: l.switchProb, labelSmoothing: l.labelSmoothing, classes: model.classes)
        rng = Philox(seed: seed, SampleKeys.purposeID("batch-mix"), UInt64(comm.rank))
    }

    // MARK: start

    /// Initial parameters (rank 0's, broadcast), then optionally the encoder from an ASIT
    /// checkpoint, then the resume checkpoint if any. Returns a line describing what was loaded.
    public func prepare(resume: String) throws -> String {
        try dp.broadcastParameters()
        var said = "fresh start"
        if !config.train.initEncoder.isEmpty {
            // The classifier's encoder is `feature_model.*`; an asit checkpoint stores it as
            // `encoder.*` beside the generator and discriminator, which are not needed here.
            let r = try CheckpointReader(path: config.train.initEncoder)
            defer { r.close() }
            let enc = params.filter { $0.0.hasPrefix("feature_model.") }
            try r.loadInto(params: enc.map { (key: "encoder." + $0.0.dropFirst("feature_model.".count), tensor: $0.1) },
                           ignoringOthers: true)
            said = "encoder initialised from \(config.train.initEncoder)"
        }
        let decision = try Resume.resolveCollective(resume, runDir: runDir, comm: comm)
        for w in decision.warnings { log.warning("\(w)") }
        if let path = decision.path { said = try restore(path) }
        return said
    }

    func restore(_ path: String) throws -> String {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: "ifer", architecture: architecture)
        try r.loadInto(params: params.map { (key: $0.0, tensor: $0.1) }, buffers: buffers.map { (key: $0.0, tensor: $0.1) })
        try restoreOptimizer(optimizer, from: r, name: optimizer.name)
        step = r.header.step
        let ranks = try r.ranks()
        if ranks.count == comm.worldSize {
            let mine = ranks[comm.rank]
            rng = try Philox(state: mine.rng)
            try trainLoader.restore(mine.cursor)
            return "resumed from \(path) at step \(step)"
        }
        // Another world size: the loader re-splits the same global position; batch-mix RNGs are re-derived.
        try trainLoader.restore(ranks[0].cursor)
        rng = Philox(seed: UInt64(config.train.seed), SampleKeys.purposeID("batch-mix"), UInt64(comm.rank), UInt64(step))
        return "resumed from \(path) at step \(step) on \(comm.worldSize) ranks (saved on \(ranks.count)): loader re-split, RNG streams re-derived"
    }

    /// Identifies the network in checkpoints (a hash of every tensor's key and shape): resuming
    /// into another architecture is refused with a clear message.
    var architecture: String {
        let desc = (params + buffers).map { "\($0.0)\($0.1.shape)" }.joined(separator: ";")
        return "ifer-classifier-" + String(Module_pathHash(desc), radix: 16)
    }

    // MARK: loop

    /// Trains until `train.steps` (or `train.stop_after` steps of this run), evaluating and
    /// checkpointing on schedule. Returns the final evaluation when one ran.
    @discardableResult
    public func run() throws -> ConfusionMatrix? {
        let c = config
        let end = c.train.stopAfter > 0 ? min(c.train.steps, step + c.train.stopAfter) : c.train.steps
        let progress = try Progress(total: c.train.steps, runDir: comm.isRoot ? runDir : nil, enabled: comm.isRoot, bar: c.log.bar)
        progress.begin(at: step)
        var seen = 0
        var t0 = MonotonicClock.now()
        var lossSum = 0.0, lossCount = 0
        while step < end {
            comm.watchdog?.beginStep(step)
            let loss = try trainStep()
            lossSum += loss; lossCount += 1
            seen += c.train.batchSize
            step += 1
            if step % c.log.every == 0 || step == end {
                var pair = [lossSum, Double(lossCount)]
                try pair.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: 2) }
                let dt = MonotonicClock.now() - t0
                progress.step(step, epoch: trainLoader.epoch, losses: [("loss", pair[0] / max(pair[1], 1))],
                              lr: schedule.lr(at: step - 1), imagesPerSecond: Double(seen) / max(dt, 1e-9))
                lossSum = 0; lossCount = 0; seen = 0; t0 = MonotonicClock.now()
            }
            if c.dist.allreduce && c.dist.replicaCheckEvery > 0 && step % c.dist.replicaCheckEvery == 0 { try dp.checkReplicas(step: step) }
            if c.train.evalEvery > 0 && step % c.train.evalEvery == 0 && step < end { try evaluate(progress) }
            if step % c.checkpoint.every == 0 || step == end { try save() }
        }
        try evaluate(progress)
        progress.finish()
        return lastEval
    }

    /// One optimizer step; returns this rank's mean loss.
    func trainStep() throws -> Double {
        var batch = try trainLoader.next()
        if batch == nil { batch = try trainLoader.next() }  // epoch boundary
        guard let b = batch else {
            throw ConfigError.badValue(path: "train.batch_size", detail: "the training split has fewer samples than one global batch")
        }
        let targets = mixup.apply(images: b.images, labels: b.labels, rng: &rng)
        flat.zeroGrad()
        let micro = config.train.microBatches
        let per = b.labels.count / micro
        var total = 0.0
        for m in 0..<micro {
            let rows = (m * per)..<((m + 1) * per)
            let x = micro == 1 ? b.images : try slice(b.images, axis: 0, start: rows.lowerBound, end: rows.upperBound)
            let y = micro == 1 ? targets : try slice(targets, axis: 0, start: rows.lowerBound, end: rows.upperBound)
            var rngs = SampleKeys.rngs(seed: UInt64(config.train.seed), purpose: "drop-path", step: step,
                                       globalIndices: Array(b.indices[rows]))
            let body: () throws -> Void = {
                let logits = try self.model.logits(x, training: true, rngs: &rngs)
                var loss = try crossEntropy(logits, softTargets: y)
                total += Double(loss.item)
                if micro > 1 { loss = try scale(loss, 1 / Float(micro)) }
                try self.dp.backward(loss)
            }
            if m < micro - 1 { try dp.noSync { try body() } } else { try body() }
        }
        if config.optim.clipGrad > 0 { try clipGradNorm(flat, maxNorm: config.optim.clipGrad) }
        try optimizer.step(lr: schedule.lr(at: step))
        return total / Double(micro)
    }

    // MARK: evaluation

    /// Top-1, per-class accuracy and the confusion matrix on the evaluation split, over all ranks.
    @discardableResult
    public func evaluate(_ progress: Progress? = nil) throws -> ConfusionMatrix {
        let cm = try evaluateClassifier(model, loader: evalLoader, comm: comm)
        lastEval = cm
        let names = evalLoader.dataset.classNames
        let perClass = Dictionary(uniqueKeysWithValues: zip(names, cm.perClassAccuracy.map { $0.isNaN ? -1 : $0 }))
        progress?.eval(step, ["accuracy": cm.accuracy, "per_class_accuracy": perClass, "confusion": cm.rows,
                              "samples": cm.total, "split": config.data.evalSplit],
                       summary: String(format: "eval step %d: top-1 %.2f%% on %d %@ images", step, cm.accuracy * 100, cm.total, config.data.evalSplit))
        if comm.isRoot { try cm.writeCSV(names: names, to: (runDir as NSString).appendingPathComponent("confusion.csv")) }
        return cm
    }

    // MARK: checkpoints

    public func save() throws {
        let opt = try optimizerState(optimizer, name: optimizer.name, lr: schedule.lr(at: step))
        var state = CheckpointState(stage: "ifer", step: step, epoch: trainLoader.epoch, worldSize: comm.worldSize,
                                    config: config.resolvedYAML, architecture: architecture,
                                    params: params.map { (key: $0.0, tensor: $0.1) }, buffers: buffers.map { (key: $0.0, tensor: $0.1) },
                                    optimizers: [opt])
        state.classNames = trainLoader.dataset.classNames
        let path = try CheckpointWriter.saveCollective(state, local: RankState(rng: rng.state, cursor: trainLoader.cursor),
                                                       runDir: runDir, keep: config.checkpoint.keep, comm: comm)
        if comm.isRoot { log.info("checkpoint \(path)") }
    }
}
