import Foundation
import IFERTensor

/// The deterministic data-parallel loader (DESIGN section 7).
///
/// `next()` returns this rank's next training batch, moving on to the next epoch (a new
/// permutation) by itself; `forEachBatchOfEpoch` walks one whole pass from the start, for
/// evaluation. A background thread prepares the
/// next `prefetch` batches (read, augment, normalise) while the caller trains. The cursor is
/// (epoch, samples consumed globally): restoring it replays exactly the batches a run that was
/// never stopped would have seen; with another world size the same global position is re-split.
public final class Loader {
    public let source: BatchSource
    public let training: Bool
    public let prefetch: Int
    private var prefetcher: Prefetcher?

    /// The batch `next()` returns next.
    public private(set) var epoch = 0
    public private(set) var step = 0

    /// `batchSize` is per rank. Training shuffles each epoch and drops the last incomplete global
    /// batch; evaluation keeps the dataset order and pads (mask false). `prefetch` 0 loads
    /// synchronously on the caller's thread.
    public init(dataset: ShardDataset, batchSize: Int, seed: UInt64, rank: Int, worldSize: Int, training: Bool,
                augmentation: Augmentation = .none, prefetch: Int = 2) throws {
        let sampler = try Sampler(count: dataset.count, batchSize: batchSize, rank: rank, worldSize: worldSize,
                                  seed: seed, shuffle: training, dropLast: training)
        let out = augmentation.outputSize ?? dataset.resolution
        guard (1...4096).contains(out) else { throw DataError.badArgument("Loader: output size \(out) is not in 1...4096") }
        if let c = augmentation.centerCrop, !(c > 0 && c <= 1) { throw DataError.badArgument("Loader: centre crop \(c) is not in (0, 1]") }
        if let s = augmentation.resizedCropScale, !(s.lowerBound > 0 && s.upperBound <= 1) {
            throw DataError.badArgument("Loader: RandomResizedCrop scale \(s) is not within (0, 1]")
        }
        self.source = BatchSource(dataset: dataset, sampler: sampler, augmentation: augmentation, outputSize: out)
        self.training = training
        self.prefetch = max(0, prefetch)
        if self.prefetch > 0 {
            prefetcher = Prefetcher(source: source, depth: self.prefetch, stepsPerEpoch: sampler.stepsPerEpoch, epoch: 0, step: 0)
        }
    }

    /// Opens `split` of the shards in `path` (directory or manifest.json) and makes a loader.
    public convenience init(path: String, split: String, batchSize: Int, seed: UInt64, rank: Int, worldSize: Int,
                            training: Bool, augmentation: Augmentation = .none, prefetch: Int = 2, verify: Bool = true) throws {
        try self.init(dataset: try ShardDataset(path: path, split: split, verify: verify), batchSize: batchSize, seed: seed,
                      rank: rank, worldSize: worldSize, training: training, augmentation: augmentation, prefetch: prefetch)
    }

    deinit { prefetcher?.stop() }

    public var dataset: ShardDataset { source.dataset }
    public var sampler: Sampler { source.sampler }
    public var stepsPerEpoch: Int { sampler.stepsPerEpoch }
    public var batchSize: Int { sampler.batchSize }
    public var outputSize: Int { source.outputSize }

    /// (epoch, global samples consumed in the epoch): the part of the checkpoint that resumes data.
    public var cursor: [Int64] { [Int64(epoch), Int64(step * sampler.globalBatch)] }

    /// Continues from a saved cursor. With a different global batch than the run that saved it,
    /// the position is rounded down to a whole global batch (a few samples may repeat).
    public func restore(_ c: [Int64]) throws {
        guard c.count == 2, c[0] >= 0, c[1] >= 0 else {
            throw DataError.badArgument("Loader.restore: cursor must be [epoch >= 0, position >= 0], got \(c)")
        }
        var e = Int(c[0]), s = Int(c[1]) / sampler.globalBatch
        if s >= stepsPerEpoch { e += 1; s = 0 }
        epoch = e; step = s
        prefetcher?.restart(epoch: e, step: s)
    }

    /// The next batch; at the end of an epoch the next epoch begins (the loader owns the boundary).
    public func next() throws -> Batch {
        guard stepsPerEpoch > 0 else {
            throw DataError.badArgument("split '\(dataset.split)' has \(dataset.count) samples, fewer than one global batch of \(sampler.globalBatch)")
        }
        if step >= stepsPerEpoch { epoch += 1; step = 0 }
        let result = prefetcher?.take(epoch: epoch, step: step) ?? Result { try source.make(epoch: epoch, step: step) }
        step += 1
        return try result.get()
    }

    /// Every batch of one pass over the split, from its start (evaluation: in order, the last
    /// batch padded and masked).
    public func forEachBatchOfEpoch(_ body: (Batch) throws -> Void) throws {
        try restore([0, 0])
        for _ in 0..<stepsPerEpoch { try body(try next()) }
    }

    /// Stops the prefetch thread; later batches load synchronously.
    public func stop() {
        prefetcher?.stop()
        prefetcher = nil
    }
}
