import IFERTensor

/// Random streams for per-sample randomness (augmentation, dropout and drop-path masks, noise
/// inputs). A sample's stream is keyed by (seed, purpose, step or epoch, global sample index), never
/// by the rank, so a run draws the same numbers for sample i whether one rank or eight share the
/// batch, and a resumed run draws the same numbers as an uninterrupted one.
public enum SampleKeys {
    /// Stable 64-bit id of a purpose name (FNV-1a over its UTF-8 bytes; Swift's `hashValue` is
    /// randomized per process, so it cannot be used here).
    public static func purposeID(_ purpose: String) -> UInt64 { FNV1a.hash(purpose) }

    /// One generator per global sample index, for `purpose` ("noise", "dropout", "augment" ...) at
    /// `step` (or epoch: any counter that changes between visits of the same sample).
    public static func rngs(seed: UInt64, purpose: String, step: Int, globalIndices: [Int]) -> [Philox] {
        let p = purposeID(purpose)
        return globalIndices.map { Philox(seed: seed, p, UInt64(bitPattern: Int64(step)), UInt64(bitPattern: Int64($0))) }
    }

    /// The generator of one sample.
    public static func rng(seed: UInt64, purpose: String, step: Int, globalIndex: Int) -> Philox {
        Philox(seed: seed, purposeID(purpose), UInt64(bitPattern: Int64(step)), UInt64(bitPattern: Int64(globalIndex)))
    }

    /// The global sample indices this rank holds in a global batch: the contiguous slice
    /// [rank * local, (rank + 1) * local) of `batchStart ..< batchStart + globalBatch`.
    public static func localIndices(batchStart: Int, globalBatch: Int, rank: Int, worldSize: Int) throws -> [Int] {
        guard worldSize > 0, rank >= 0, rank < worldSize else {
            throw DistError.mismatch("SampleKeys.localIndices: rank \(rank) outside a world of \(worldSize)")
        }
        guard globalBatch % worldSize == 0 else {
            throw DistError.mismatch("rank \(rank): global batch \(globalBatch) does not split evenly over \(worldSize) ranks")
        }
        let local = globalBatch / worldSize
        let start = batchStart + rank * local
        return Array(start..<(start + local))
    }
}
