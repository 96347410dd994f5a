import XCTest
@testable import IFERTensor

/// Dropout and drop-path are checked deterministically: the mask is reproducible from the
/// per-sample keys, survivors are scaled by 1/(1-p), and the gradient is mask · scale.
final class DropoutTests: XCTestCase {
    private func keys(_ ids: [UInt64]) -> [Philox] { ids.map { Philox(seed: 7, 100, $0) } }

    func testDropoutMaskComesFromPerRowKeys() throws {
        var rng = Philox(seed: 1)
        let x = Tensor.randn([4, 50], &rng)
        x.requiresGrad = true
        let p: Float = 0.3
        var rngs = keys([10, 11, 12, 13])
        let y = try dropout(x, p: p, rngs: &rngs)
        // Expected mask: row r draws its 50 decisions from its own key, in order.
        var expected = [Float](repeating: 0, count: 200)
        for r in 0..<4 {
            var k = Philox(seed: 7, 100, UInt64(10 + r))
            for j in 0..<50 where k.bernoulli(1 - p) { expected[r * 50 + j] = 1 / (1 - p) }
            XCTAssertEqual(rngs[r], k, "generator r must advance exactly as the reference")
        }
        for i in 0..<200 { XCTAssertEqual(y.ptr[i], x.ptr[i] * expected[i], accuracy: 1e-6) }
        let kept = expected.filter { $0 > 0 }.count
        XCTAssertTrue((100...180).contains(kept), "kept \(kept) of 200 at p = 0.3")

        // The same sample gives the same mask when it sits in another batch (another rank's split).
        var single = keys([12])
        let alone = try Autograd.noGrad { try dropout(try slice(x, axis: 0, start: 2, end: 3), p: p, rngs: &single) }
        XCTAssertEqual(alone.array, Array(y.array[100..<150]))

        // Gradient = seed · mask · scale.
        let seed = Tensor.randn([4, 50], &rng)
        try y.backward(gradient: seed)
        for i in 0..<200 { XCTAssertEqual(x.grad!.ptr[i], seed.ptr[i] * expected[i], accuracy: 1e-6) }
    }

    func testDropPathZeroesWholeSamplesAndScalesSurvivors() throws {
        var rng = Philox(seed: 2)
        let x = Tensor.randn([16, 3, 4], &rng)
        x.requiresGrad = true
        let p: Float = 0.25
        var rngs = keys(Array(0..<16))
        let y = try dropPath(x, p: p, rngs: &rngs)
        let seed = Tensor.randn([16, 3, 4], &rng)
        try y.backward(gradient: seed)
        var dropped = 0
        for r in 0..<16 {
            var k = Philox(seed: 7, 100, UInt64(r))
            let keep = k.bernoulli(1 - p)
            XCTAssertEqual(rngs[r], k, "one draw per sample")
            let f: Float = keep ? 1 / (1 - p) : 0
            if !keep { dropped += 1 }
            for j in 0..<12 {
                let i = r * 12 + j
                XCTAssertEqual(y.ptr[i], x.ptr[i] * f, accuracy: 1e-6)
                XCTAssertEqual(x.grad!.ptr[i], seed.ptr[i] * f, accuracy: 1e-6)
            }
        }
        XCTAssertTrue((1...10).contains(dropped), "dropped \(dropped) of 16 at p = 0.25")
    }

    func testEdgeProbabilitiesAndErrors() throws {
        let x = Tensor(filled: 2, shape: [2, 3])
        var rngs = keys([1, 2])
        let before = rngs
        XCTAssertTrue(try dropout(x, p: 0, rngs: &rngs) === x)
        XCTAssertTrue(try dropPath(x, p: 0, rngs: &rngs) === x)
        XCTAssertEqual(rngs, before, "p = 0 draws nothing")
        XCTAssertEqual(try dropout(x, p: 1, rngs: &rngs).array, [Float](repeating: 0, count: 6))
        XCTAssertEqual(try dropPath(x, p: 1, rngs: &rngs).array, [Float](repeating: 0, count: 6))
        var one = keys([1])
        XCTAssertThrowsError(try dropout(x, p: 0.5, rngs: &one)) { XCTAssertTrue("\($0)".hasPrefix("dropout:"), "\($0)") }
        XCTAssertThrowsError(try dropPath(x, p: 0.5, rngs: &one)) { XCTAssertTrue("\($0)".hasPrefix("dropPath:"), "\($0)") }
        XCTAssertThrowsError(try dropout(x, p: 1.5, rngs: &rngs)) { XCTAssertTrue("\($0)".contains("1.5"), "\($0)") }
        XCTAssertThrowsError(try dropPath(x, p: -0.1, rngs: &rngs))
    }
}
