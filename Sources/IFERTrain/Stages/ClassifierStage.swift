import Foundation
import Logging

/// The `ifer` stage: expression classification with the ASIT encoder and the IFER head,
/// data-parallel over the communicator's ranks.
///
/// One optimizer step: every rank takes its slice of the global batch, mixes it (mixup / cutmix,
/// soft targets with label smoothing), runs forward and backward with the gradient all-reduce
/// overlapped (DataParallel), then clips the averaged gradient by its global norm and applies
/// AdamW (or the configured optimizer) with the scheduled learning rate. Every rank does
/// identical updates, so replicas stay identical; the driver's hash check verifies it.
public final class ClassifierStage: TrainingStage {
    public static let name = "ifer"
    public static let architectureFamily = "ifer-classifier"

    let context: StageContext
    let model: ImageClassifier
    let params: [NamedTensor]
    let buffers: [NamedTensor]
    let flat: FlatBuffer
    let dp: DataParallel
    let optimizer: Optimizer
    let mixup: Mixup
    /// This rank's generator for batch-level randomness (mixup); saved in checkpoints.
    var rng: Philox

    public static func data(_ c: RunConfig) throws -> StageData {
        let size = c.model.encoder.imageSize   // shards of another resolution are resampled to it
        let train: Augmentation = c.data.augment
            ? Augmentation(outputSize: size, flip: c.data.flip ? 0.5 : 0, resizedCropScale: c.data.cropScaleMin...1, erasing: c.data.erasing,
                           randAugment: c.data.randAugment)
            : Augmentation(outputSize: size)
        var d = StageData(imageSize: size, trainAugmentation: train, evalAugmentation: c.data.evalAugmentation(size: size))
        d.allowsMicroBatches = true
        d.needsLabels = true
        return d
    }

    public init(_ context: StageContext) throws {
        self.context = context
        let c = context.config
        let model = try makeClassifier(c)
        self.model = model
        let dataClasses = context.trainLoader.dataset.classNames.count
        guard dataClasses == model.classes else {
            throw ConfigError.badValue(path: "model.ifer_head.num_classes",
                                       detail: "the model has \(model.classes) classes but \(c.data.shards) has \(dataClasses) (\(context.trainLoader.dataset.classNames.joined(separator: ", ")))")
        }
        params = model.namedParameters()
        buffers = model.namedBuffers()
        for (k, t) in params + buffers { t.name = k }
        flat = FlatBuffer(params.map(\.tensor), withGradients: true)
        dp = try DataParallel(flat, comm: context.comm, buffers: buffers.map(\.tensor), bucketBytes: Int(c.dist.bucketMB * 1_048_576))
        dp.requireSync = c.dist.allreduce
        optimizer = try makeOptimizer(flat, c.optim)
        let l = c.loss
        mixup = Mixup(mixupAlpha: c.data.augment ? l.mixupAlpha : 0, cutmixAlpha: c.data.augment ? l.cutmixAlpha : 0,
                      prob: l.mixupProb, switchProb: l.switchProb, labelSmoothing: l.labelSmoothing, classes: model.classes)
        rng = Philox(seed: UInt64(c.train.seed), SampleKeys.purposeID("batch-mix"), UInt64(context.comm.rank))
    }

    public var lossTerms: [LossTerm] { [.loss] }
    public var summary: String { "\(model.parameterCount) parameters" }
    public var replicas: [DataParallel] { [dp] }
    public var checkpointParams: [NamedTensor] { params }
    public var checkpointBuffers: [NamedTensor] { buffers }
    public var classNames: [String] { context.trainLoader.dataset.classNames }
    public var rankRNG: [UInt64] { rng.state }

    /// Rank 0's initial parameters for all, then optionally the encoder from an ASIT checkpoint.
    public func freshStart() throws -> String {
        try dp.broadcastParameters()
        let path = context.config.train.initEncoder
        guard !path.isEmpty else { return "fresh start" }
        // The classifier's encoder is `feature_model.*`; an asit checkpoint stores it as
        // `encoder.*` beside the generator and discriminator, which are not needed here.
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        let enc = params.filter { $0.key.hasPrefix("feature_model.") }
        try r.loadInto(params: enc.map { (key: "encoder." + $0.key.dropFirst("feature_model.".count), tensor: $0.tensor) },
                       ignoringOthers: true)
        return "encoder initialised from \(path)"
    }

    public func trainStep(_ b: Batch, step: Int) throws -> [LossTerm: Double] {
        let c = context.config
        let targets = mixup.apply(images: b.images, labels: b.labels, rng: &rng)
        flat.zeroGrad()
        let micro = c.train.microBatches
        let per = b.labels.count / micro
        var total = 0.0
        for m in 0..<micro {
            let rows = (m * per)..<((m + 1) * per)
            let x = micro == 1 ? b.images : try slice(b.images, axis: 0, start: rows.lowerBound, end: rows.upperBound)
            let y = micro == 1 ? targets : try slice(targets, axis: 0, start: rows.lowerBound, end: rows.upperBound)
            var rngs = SampleKeys.rngs(seed: UInt64(c.train.seed), purpose: "drop-path", step: step,
                                       globalIndices: Array(b.indices[rows]))
            let body: () throws -> Void = {
                let logits = try self.model.logits(x, training: true, rngs: &rngs)
                var loss = try self.context.guardian.inject(try crossEntropy(logits, softTargets: y), step: step)
                total += Double(loss.item)
                if micro > 1 { loss = scale(loss, 1 / Float(micro)) }
                try self.dp.backward(loss)
            }
            if m < micro - 1 { try dp.noSync { try body() } } else { try body() }
        }
        let loss = total / Double(micro)
        try context.guardian.update(flat, localLoss: loss, step: step, what: "classifier update") {
            if c.optim.clipGrad > 0 { try clipGradNorm(flat, maxNorm: c.optim.clipGrad) }
            try optimizer.step(lr: context.schedule.lr(at: step))
        }
        return [.loss: loss]
    }

    /// Top-1, per-class accuracy and the confusion matrix on the evaluation split, over all ranks.
    public func evaluate(step: Int) throws -> Evaluation {
        let c = context.config
        let cm = try evaluateClassifier(model, loader: context.evalLoader, comm: context.comm)
        let names = context.evalLoader.dataset.classNames
        let perClass = Dictionary(uniqueKeysWithValues: zip(names, cm.perClassAccuracy.map { $0.isNaN ? -1 : $0 }))
        if context.comm.isRoot { try cm.writeCSV(names: names, to: (context.runDir as NSString).appendingPathComponent("confusion.csv")) }
        return Evaluation(record: ["accuracy": cm.accuracy, "per_class_accuracy": perClass, "confusion": cm.rows,
                                   "samples": cm.total, "split": c.data.evalSplit],
                          summary: String(format: "eval step %d: top-1 %.2f%% on %d %@ images", step, cm.accuracy * 100, cm.total, c.data.evalSplit),
                          headline: String(format: "top-1 accuracy: %.2f%% (%d %@ images)", cm.accuracy * 100, cm.total, c.data.evalSplit),
                          values: ["accuracy": cm.accuracy, "images": Double(cm.total)], confusion: cm)
    }

    public func optimizerStates(step: Int) throws -> [OptimizerState] {
        [try optimizerState(optimizer, name: optimizer.name, lr: context.schedule.lr(at: step))]
    }

    public func restore(optimizersFrom r: CheckpointReader, ranks: [RankState], sameWorld: Bool, step: Int) throws {
        try restoreOptimizer(optimizer, from: r, name: optimizer.name)
        // On another world size the batch-mix streams are re-derived (mixup is rank-local by nature).
        rng = sameWorld ? try Philox(state: ranks[context.comm.rank].rng)
                        : Philox(seed: UInt64(context.config.train.seed), SampleKeys.purposeID("batch-mix"), UInt64(context.comm.rank), UInt64(step))
    }
}
