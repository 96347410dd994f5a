import Foundation
import IFERTensor

/// One rank's batch.
public struct Batch {
    /// [B, 3, S, S] in [-1, 1] (random-erasing noise may leave that range).
    public let images: Tensor
    /// Class index per row, -1 where unlabeled.
    public let labels: [Int]
    /// Global sample index per row (position in the split's shards).
    public let indices: [Int]
    /// False for evaluation padding rows (repeats that must not be counted).
    public let mask: [Bool]
    /// AffectNet valence/arousal per row (NaN where absent).
    public let valence: [Float]
    public let arousal: [Float]
    public let epoch: Int
    public let step: Int
}

/// Builds the batch of (epoch, step) for one rank: a pure function of the seed, the epoch, the
/// step, the rank and the world size. Safe to call from any thread.
public final class BatchSource {
    public let dataset: ShardDataset
    public let sampler: Sampler
    public let augmentation: Augmentation
    public let outputSize: Int

    private let lock = NSLock()
    private var orderEpoch = -1
    private var order: [Int] = []
    // One batch at a time: HDF5 calls are serialised here as well (the library's own lock covers
    // thread-safe builds only), and the resampling workspace is shared.
    private let readLock = NSLock()
    // Resampling buffers (used under readLock, which makes `make` one at a time).
    private let workspace = Resample.Workspace()

    init(dataset: ShardDataset, sampler: Sampler, augmentation: Augmentation, outputSize: Int) {
        self.dataset = dataset; self.sampler = sampler; self.augmentation = augmentation; self.outputSize = outputSize
    }

    /// The visiting order of `epoch` (cached for the current epoch).
    func order(epoch: Int) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        if orderEpoch != epoch {
            order = sampler.order(epoch: epoch)
            orderEpoch = epoch
        }
        return order
    }

    public func make(epoch e: Int, step s: Int) throws -> Batch {
        let (idx, mask) = sampler.batch(step: s, order: order(epoch: e))
        let b = idx.count, side = dataset.resolution, per = dataset.imageBytes
        var raw = [UInt8](repeating: 0, count: b * per)
        readLock.lock()
        defer { readLock.unlock() }
        try raw.withUnsafeMutableBufferPointer { try dataset.readImages(idx, into: $0.baseAddress!) }
        let o = outputSize
        let images = Tensor(zeros: [b, 3, o, o])  // [B, 3, S, S]
        raw.withUnsafeBufferPointer { src in
            for i in 0..<b {
                var rng = Augmentation.rng(seed: sampler.seed, epoch: e, sample: idx[i])
                augmentation.apply(src.baseAddress! + i * per, side: side, into: images.ptr + i * 3 * o * o, rng: &rng,
                                   workspace: workspace)
            }
        }
        return Batch(images: images, labels: idx.map { dataset.labels[$0] }, indices: idx, mask: mask,
                     valence: idx.map { dataset.valence[$0] }, arousal: idx.map { dataset.arousal[$0] }, epoch: e, step: s)
    }
}
