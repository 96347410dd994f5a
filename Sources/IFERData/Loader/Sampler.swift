import IFERTensor

/// Which samples each rank sees at each step (DESIGN section 7).
///
/// Epoch e visits the split in the order of a permutation drawn from (seed, e) (the identity when
/// not shuffling). A step consumes one global batch of `batchSize * worldSize` consecutive
/// positions of that order, and rank r takes positions r, r + world, r + 2 world, ... of it. So the
/// union over ranks of a step is the same block of samples for every world size with the same
/// global batch, and a world of one with batch 8 sees exactly what ranks 0 and 1 of a world of two
/// with batch 4 see together.
/// Training drops the last incomplete global batch; evaluation keeps it and pads every rank's
/// batch to full size with repeats of real samples, masked out.
public struct Sampler: Equatable, Sendable {
    public let count: Int
    public let batchSize: Int
    public let rank: Int
    public let worldSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool

    public init(count: Int, batchSize: Int, rank: Int, worldSize: Int, seed: UInt64, shuffle: Bool, dropLast: Bool) throws {
        guard batchSize > 0, worldSize > 0, (0..<worldSize).contains(rank) else {
            throw DataError.badArgument("Sampler: batch size \(batchSize), rank \(rank) and world size \(worldSize) are not valid")
        }
        guard count > 0 else { throw DataError.emptyDataset("the split has no samples") }
        if dropLast && count < batchSize * worldSize {
            throw DataError.badArgument("Sampler: \(count) samples cannot fill one global batch of \(batchSize) x \(worldSize) ranks (drop_last)")
        }
        self.count = count; self.batchSize = batchSize; self.rank = rank; self.worldSize = worldSize
        self.seed = seed; self.shuffle = shuffle; self.dropLast = dropLast
    }

    public var globalBatch: Int { batchSize * worldSize }

    public var stepsPerEpoch: Int {
        dropLast ? count / globalBatch : (count + globalBatch - 1) / globalBatch
    }

    /// Stream id of the epoch permutation (distinct from augmentation streams).
    static let shuffleStream: UInt64 = 0x5348_5546  // "SHUF"

    /// The visiting order of epoch `epoch`.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var rng = Philox(seed: seed, Sampler.shuffleStream, UInt64(epoch))
        return rng.permutation(count)
    }

    /// This rank's sample indices at `step` of an epoch with visiting order `order`, and the mask
    /// (false for padding, which repeats real samples so every image is valid).
    public func batch(step: Int, order: [Int]) -> (indices: [Int], mask: [Bool]) {
        var idx = [Int](), mask = [Bool]()
        idx.reserveCapacity(batchSize); mask.reserveCapacity(batchSize)
        for k in 0..<batchSize {
            let pos = step * globalBatch + rank + k * worldSize
            if pos < count {
                idx.append(order[pos]); mask.append(true)
            } else {
                idx.append(order[pos % count]); mask.append(false)
            }
        }
        return (idx, mask)
    }
}
