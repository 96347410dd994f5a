import Foundation
import IFERDist
import IFERTensor
import XCTest
@testable import IFERData

/// The loader: the split of samples over ranks, world-size independence of batches and their
/// augmentation, evaluation padding, prefetching, and exact resumption from a saved cursor.
final class LoaderTests: XCTestCase {
    /// 37 distinct 40x40 images sharded at 32 px into shards of 5 images (8 shards).
    static let shards: String = {
        // Shared by every test (kept); a failure here shows as missing shards in each test.
        let root = (try? makeTempDir(nil, "loader-src")) ?? "", out = (try? makeTempDir(nil, "loader-shards")) ?? ""
        for i in 0..<37 { try? Fixtures.png(root + String(format: "/img%03d.png", i), size: 40, seed: i) }
        _ = try? ShardCoordinator.run(ShardOptions(dataset: .folder, root: root, out: out, resolution: 32,
                                                   shardSizeMB: 5.0 * 32 * 32 * 3 / 1_048_576), comm: SingleProcess())
        return out
    }()

    func loader(batch: Int, rank: Int, world: Int, training: Bool, aug: Augmentation, prefetch: Int = 2, seed: UInt64 = 7) throws -> Loader {
        try Loader(path: Self.shards, split: "train", batchSize: batch, seed: seed, rank: rank, worldSize: world,
                   training: training, augmentation: aug, prefetch: prefetch)
    }

    /// Rows of a batch keyed by global sample index.
    func rows(_ b: Batch) -> [Int: [Float]] {
        let per = b.images.count / b.indices.count
        var out: [Int: [Float]] = [:]
        for (i, idx) in b.indices.enumerated() where b.mask[i] { out[idx] = Array(b.images.buffer[(i * per)..<((i + 1) * per)]) }
        return out
    }

    func testSamplerSplitsEveryWorldthPositionAndDropsLast() throws {
        let one = try Sampler(count: 37, batchSize: 8, rank: 0, worldSize: 1, seed: 3, shuffle: true, dropLast: true)
        let r0 = try Sampler(count: 37, batchSize: 4, rank: 0, worldSize: 2, seed: 3, shuffle: true, dropLast: true)
        let r1 = try Sampler(count: 37, batchSize: 4, rank: 1, worldSize: 2, seed: 3, shuffle: true, dropLast: true)
        XCTAssertEqual(one.stepsPerEpoch, 4)
        XCTAssertEqual(r0.stepsPerEpoch, 4)
        for epoch in 0..<3 {
            let order = one.order(epoch: epoch)
            XCTAssertEqual(order.sorted(), Array(0..<37))
            for step in 0..<4 {
                let a = one.batch(step: step, order: order).indices
                let b0 = r0.batch(step: step, order: order).indices, b1 = r1.batch(step: step, order: order).indices
                XCTAssertEqual(a, Array(order[(step * 8)..<(step * 8 + 8)]))
                XCTAssertEqual(b0, stride(from: 0, to: 8, by: 2).map { a[$0] })
                XCTAssertEqual(b1, stride(from: 1, to: 8, by: 2).map { a[$0] })
            }
        }
        XCTAssertNotEqual(one.order(epoch: 0), one.order(epoch: 1))
        XCTAssertThrowsError(try Sampler(count: 0, batchSize: 1, rank: 0, worldSize: 1, seed: 0, shuffle: false, dropLast: false))
        XCTAssertThrowsError(try Sampler(count: 5, batchSize: 4, rank: 0, worldSize: 2, seed: 0, shuffle: true, dropLast: true))
        XCTAssertThrowsError(try Sampler(count: 5, batchSize: 4, rank: 2, worldSize: 2, seed: 0, shuffle: true, dropLast: false))
    }

    func testWorldOfOneEqualsUnionOfTwoRanksWithSameAugmentation() throws {
        let aug = Augmentation.classification
        let one = try loader(batch: 8, rank: 0, world: 1, training: true, aug: aug)
        let r0 = try loader(batch: 4, rank: 0, world: 2, training: true, aug: aug)
        let r1 = try loader(batch: 4, rank: 1, world: 2, training: true, aug: aug)
        XCTAssertEqual(one.stepsPerEpoch, 4)
        for epoch in 0..<2 {
            var steps = 0
            for _ in 0..<one.stepsPerEpoch {
                let a = try one.next(), b0 = try r0.next(), b1 = try r1.next()
                XCTAssertEqual(a.indices, zip(b0.indices, b1.indices).flatMap { [$0, $1] })
                XCTAssertEqual(a.labels, zip(b0.labels, b1.labels).flatMap { [$0, $1] })
                XCTAssertEqual(a.epoch, epoch); XCTAssertEqual(b1.step, steps)
                let ra = rows(a), rb = rows(b0).merging(rows(b1)) { x, _ in x }
                XCTAssertEqual(Set(ra.keys), Set(rb.keys))
                for (k, v) in ra { XCTAssertEqual(v, rb[k], "sample \(k) augmented differently") }
                steps += 1
            }
            XCTAssertEqual(steps, 4)
        }
        // The loader owns the epoch boundary: the next batch is step 0 of epoch 2.
        let next = try one.next()
        XCTAssertEqual(next.epoch, 2); XCTAssertEqual(next.step, 0)
    }

    func testEvaluationPadsAndMasksAndVisitsEverySampleOnce() throws {
        var seen: [Int] = []
        for rank in 0..<2 {
            let l = try loader(batch: 4, rank: rank, world: 2, training: false, aug: .none)
            XCTAssertEqual(l.stepsPerEpoch, 5)
            var n = 0
            try l.forEachBatchOfEpoch { b in
                XCTAssertEqual(b.indices.count, 4)
                seen += zip(b.indices, b.mask).filter { $0.1 }.map { $0.0 }
                if n < 4 { XCTAssertTrue(b.mask.allSatisfy { $0 }) }
                n += 1
            }
            XCTAssertEqual(n, 5)
        }
        XCTAssertEqual(seen.sorted(), Array(0..<37))
    }

    func testNormalisationFlipAndCrops() throws {
        let ds = try ShardDataset(path: Self.shards, split: "train")
        var raw = [UInt8](repeating: 0, count: ds.imageBytes)
        try raw.withUnsafeMutableBufferPointer { try ds.readImages([3], into: $0.baseAddress!) }
        let s = 32, plane = s * s
        var plain = [Float](repeating: 0, count: 3 * plane), flipped = plain
        var rng = Philox(seed: 1)
        raw.withUnsafeBufferPointer { Augmentation.none.apply($0.baseAddress!, side: s, into: &plain, rng: &rng) }
        raw.withUnsafeBufferPointer { Augmentation(flip: 1).apply($0.baseAddress!, side: s, into: &flipped, rng: &rng) }
        for y in 0..<s {
            for x in 0..<s {
                for c in 0..<3 {
                    XCTAssertEqual(plain[c * plane + y * s + x], Float(raw[(y * s + x) * 3 + c]) / 127.5 - 1, accuracy: 1e-6)
                    XCTAssertEqual(flipped[c * plane + y * s + x], plain[c * plane + y * s + (s - 1 - x)])
                }
            }
        }
        // Resized crops and a different output size stay in [-1, 1]; erasing writes noise.
        var big = [Float](repeating: 0, count: 3 * 48 * 48)
        for seed in 0..<20 {
            var r = Philox(seed: UInt64(seed))
            raw.withUnsafeBufferPointer { Augmentation(outputSize: 48, flip: 0.5, resizedCropScale: 0.08...1).apply($0.baseAddress!, side: s, into: &big, rng: &r) }
            XCTAssertTrue(big.allSatisfy { $0 >= -1 && $0 <= 1 })
        }
        var erased = [Float](repeating: 0, count: 3 * plane)
        var r = Philox(seed: 5)
        raw.withUnsafeBufferPointer { Augmentation(erasing: 1).apply($0.baseAddress!, side: s, into: &erased, rng: &r) }
        XCTAssertTrue(erased.contains { $0 < -1 || $0 > 1 }, "random erasing fills a box with N(0, 1) noise")
        // Window of a RandomResizedCrop always lies inside the image.
        for seed in 0..<200 {
            var r = Philox(seed: UInt64(seed))
            let (x, y, w, h) = Augmentation.classification.resizedCropWindow(width: 32, height: 32, scale: 0.08...1, rng: &r)
            XCTAssertTrue(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 32 && y + h <= 32)
        }
    }

    func testCursorRestoreReplaysExactlyTheSameBatches() throws {
        let aug = Augmentation.classification
        let a = try loader(batch: 4, rank: 1, world: 2, training: true, aug: aug)
        // Consume 1.5 epochs, save the cursor, record what comes next (across an epoch boundary).
        var cursor: [Int64] = []
        var expected: [Batch] = []
        var consumed = 0
        while expected.count < 6 {
            let b = try a.next()
            consumed += 1
            if consumed == 6 { cursor = a.cursor; continue }
            if consumed > 6 { expected.append(b) }
        }
        XCTAssertEqual(cursor, [1, 16])
        for prefetch in [0, 3] {
            let b = try loader(batch: 4, rank: 1, world: 2, training: true, aug: aug, prefetch: prefetch)
            _ = try b.next()  // wherever it was, restore moves it
            try b.restore(cursor)
            var got: [Batch] = []
            while got.count < 6 { got.append(try b.next()) }
            for (x, y) in zip(got, expected) {
                XCTAssertEqual(x.indices, y.indices)
                XCTAssertEqual(x.epoch, y.epoch); XCTAssertEqual(x.step, y.step)
                XCTAssertEqual(x.images.array, y.images.array)
            }
        }
        // Another world size resumes at the same global position.
        let single = try loader(batch: 8, rank: 0, world: 1, training: true, aug: aug, prefetch: 0)
        try single.restore(cursor)
        let s = try single.next()
        XCTAssertEqual(stride(from: 1, to: 8, by: 2).map { s.indices[$0] }, expected[0].indices)
        XCTAssertThrowsError(try single.restore([1]))
    }

    func testPrefetchDeliversTheSameBatchesAsSynchronousLoading() throws {
        let p = try loader(batch: 3, rank: 0, world: 1, training: true, aug: .classification, prefetch: 4)
        let q = try loader(batch: 3, rank: 0, world: 1, training: true, aug: .classification, prefetch: 0)
        for _ in 0..<30 {
            let x = try p.next(), y = try q.next()
            XCTAssertEqual(x.indices, y.indices)
            XCTAssertEqual(x.images.array, y.images.array)
        }
        p.stop()
        XCTAssertEqual(try p.next().indices, try q.next().indices)  // keeps working synchronously after stop
    }
}
