import Foundation
import Logging

/// A training stage, as the one driver (StageDriver) runs it. A stage owns only what is its own:
/// its networks and optimisers, one training step, its evaluation, the tensors it checkpoints
/// and the names of its losses. The loop, loaders, logging, replica checks, evaluation and
/// checkpoint cadence, `stop_after`, preemption and resume belong to the driver.
///
/// Adding a stage: one new file with a final class conforming to this protocol, plus one entry
/// in `StageTable.all` (Driver/StageTable.swift).
public protocol TrainingStage: AnyObject {
    /// The `train.stage` value that selects this stage; also the `stage` attribute of its checkpoints.
    static var name: String { get }

    /// The architecture id's prefix in checkpoints ("<family>-<hash of keys and shapes>"); the
    /// stage name unless a stage keeps an older id.
    static var architectureFamily: String { get }

    /// What the stage's loaders read: built by the driver from the config before the stage exists.
    static func data(_ config: RunConfig) throws -> StageData

    /// Builds the networks (random, from `train.seed`), optimisers and data-parallel wrappers.
    init(_ context: StageContext) throws

    /// The loss terms this run computes, in log order (the first is the stage's headline loss).
    var lossTerms: [LossTerm] { get }

    /// One line for the start-up log: trainable parameter counts.
    var summary: String { get }

    /// Every data-parallel replica set, for the periodic replica-consistency check.
    var replicas: [DataParallel] { get }

    /// A fresh start (no checkpoint to resume): rank 0's initial parameters are broadcast and
    /// pretrained parts loaded (`train.init_encoder`, `train.generator`). Returns what was loaded.
    func freshStart() throws -> String

    /// One optimizer step on this rank's slice of a global batch; returns this rank's losses.
    func trainStep(_ batch: Batch, step: Int) throws -> [LossTerm: Double]

    /// Evaluation over the stage's evaluation split on every rank (collective).
    func evaluate(step: Int) throws -> Evaluation

    /// Every tensor a checkpoint of this stage holds, under its checkpoint key (the driver saves
    /// and loads them, and derives the architecture id from their keys and shapes).
    var checkpointParams: [NamedTensor] { get }
    var checkpointBuffers: [NamedTensor] { get }

    /// The optimisers' state at `step` (moments, step counts, learning rate).
    func optimizerStates(step: Int) throws -> [OptimizerState]

    /// This rank's own RNG words. Stages whose randomness is all keyed per sample save a fixed
    /// placeholder; the driver adds the loader cursor.
    var rankRNG: [UInt64] { get }

    /// Restores the optimisers and this rank's RNG after the driver loaded the tensors.
    /// `ranks` holds every saving rank's words; `sameWorld` says whether this run has as many
    /// ranks (then `ranks[comm.rank]` is this rank's own).
    func restore(optimizersFrom reader: CheckpointReader, ranks: [RankState], sameWorld: Bool, step: Int) throws

    /// The `ifer` stage's class names in output order (the root attribute `class_names`).
    var classNames: [String] { get }

    /// Called on every rank just before a checkpoint is written (collective order is the
    /// driver's): a stage brings derived tensors up to date (the generator stage's latent_avg).
    func willCheckpoint(step: Int) throws
}

extension TrainingStage {
    public var classNames: [String] { [] }
    public func willCheckpoint(step: Int) throws {}
    public static var architectureFamily: String { name }
}

/// Everything a stage is built from.
public struct StageContext {
    public let config: RunConfig
    public let comm: Communicator
    public let runDir: String
    public let log: Logger
    /// This rank's training batches (shuffled per epoch, augmented as `StageData` says).
    public let trainLoader: Loader
    /// This rank's share of the evaluation split (in order, padded rows masked).
    public let evalLoader: Loader
    /// The learning rate of every step (`optim` section).
    public let schedule: Schedule
    /// Wraps every optimiser update: skips or stops on non-finite gradients (`train.on_nonfinite`).
    public let guardian: StepGuard
}

/// The loaders a stage needs, derived from its config.
public struct StageData {
    /// Side of the square images the networks read (shards of another size are resampled).
    public var imageSize: Int
    public var trainAugmentation: Augmentation
    public var evalAugmentation: Augmentation
    /// The smallest batch one rank may hold (the asit distribution loss compares samples).
    public var minLocalBatch: Int = 1
    /// Whether the stage can accumulate gradients over `train.micro_batches`.
    public var allowsMicroBatches: Bool = false
    /// Whether the stage trains on labels (a split without them is refused at start).
    public var needsLabels: Bool = false

    public init(imageSize: Int, trainAugmentation: Augmentation, evalAugmentation: Augmentation) {
        self.imageSize = imageSize
        self.trainAugmentation = trainAugmentation
        self.evalAugmentation = evalAugmentation
    }
}

/// One evaluation: the metrics.jsonl record, the one-line summary, and its headline numbers.
public struct Evaluation {
    public var record: [String: Any]
    public var summary: String
    /// What `ifer train` prints at the end after "final ", e.g. "top-1 accuracy: 66.07% (560 test images)".
    public var headline: String
    /// Numbers the command prints at the end (e.g. "accuracy", "val_loss").
    public var values: [String: Double]
    /// The classification result of the `ifer` stage.
    public var confusion: ConfusionMatrix?

    public init(record: [String: Any], summary: String, headline: String, values: [String: Double], confusion: ConfusionMatrix? = nil) {
        self.record = record
        self.summary = summary
        self.headline = headline
        self.values = values
        self.confusion = confusion
    }
}

/// Every loss a stage may log, by name: the metrics.jsonl keys.
public enum LossTerm: String, CaseIterable {
    // ifer stage
    case loss
    // asit stage (reference section 4): L_D, and L_G = l2 + lpips + id + dist + adv terms
    case lossD = "loss_d"
    case lossG = "loss_g"
    case l2, lpips, id, dist, adv
    // generator stage: R1 (lazy, on reals) and path-length regularisation (the last values
    // computed, as rosinality logs them), the discriminator's mean logits on reals and fakes
    case r1
    case pathPenalty = "path"
    case pathLength = "path_length"
    case meanPathLength = "mean_path_length"
    case realScore = "real_score"
    case fakeScore = "fake_score"
}
