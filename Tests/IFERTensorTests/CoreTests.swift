import Foundation
import XCTest
@testable import IFERTensor

final class CoreTests: XCTestCase {
    func testMatmulAllTransposesAgainstNaive() throws {
        var rng = Philox(seed: 1)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, k, n) = (3, 5, 4)
            let a = Tensor.randn(ta ? [2, k, m] : [2, m, k], &rng)
            let b = Tensor.randn(tb ? [2, n, k] : [2, k, n], &rng)
            let c = try matmul(a, b, transposeA: ta, transposeB: tb)
            XCTAssertEqual(c.shape, [2, m, n])
            for bi in 0..<2 { for i in 0..<m { for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let av = ta ? a.ptr[bi * k * m + p * m + i] : a.ptr[bi * m * k + i * k + p]
                    let bv = tb ? b.ptr[bi * n * k + j * k + p] : b.ptr[bi * k * n + p * n + j]
                    s += av * bv
                }
                XCTAssertEqual(c.ptr[bi * m * n + i * n + j], s, accuracy: 1e-4)
            } } }
        }
    }

    func testMatmulShapeErrorNamesOpAndShapes() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 5])
        XCTAssertThrowsError(try matmul(a, b)) { e in
            XCTAssertTrue("\(e)".contains("matmul") && "\(e)".contains("[2, 3]") && "\(e)".contains("[4, 5]"), "\(e)")
        }
    }

    func testPhiloxStateRoundTripAndKeyIndependence() throws {
        var r = Philox(seed: 42, 7, 3)
        _ = r.next(); _ = r.normal()
        let saved = r.state
        let expect = (0..<10).map { _ in r.next() }
        var r2 = try Philox(state: saved)
        XCTAssertEqual((0..<10).map { _ in r2.next() }, expect)
        var a = Philox(seed: 42, 7, 3), b = Philox(seed: 42, 7, 4)
        XCTAssertNotEqual(a.next(), b.next())
        // Moments of the distributions.
        var g = Philox(seed: 9)
        let xs = (0..<20000).map { _ in g.normal() }
        let mean = xs.reduce(0, +) / Float(xs.count)
        let varr = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03); XCTAssertEqual(varr, 1, accuracy: 0.05)
        let tn = (0..<5000).map { _ in g.truncatedNormal(std: 1, low: -0.5, high: 0.5) }
        XCTAssertTrue(tn.allSatisfy { abs($0) <= 0.5 })
        let p = (0..<20000).filter { _ in g.bernoulli(0.3) }.count
        XCTAssertEqual(Double(p) / 20000, 0.3, accuracy: 0.02)
    }

    func testPhiloxKnownAnswer() {
        // Random123 known-answer test for philox4x32-10 with counter 0 and key 0:
        // 6627e8d5 e169c58d bc57ac4c 9b00dbd8
        let out = Philox.philox(counter: 0, key: 0)
        XCTAssertEqual([out.0, out.1, out.2, out.3], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8])
    }

    func testFlatBufferGradientsAndReadyHookOrder() throws {
        // A forward left without backward (another network on the tape) must not fire the hook.
        let stale = Tensor(filled: 1, shape: [2, 2]); stale.kind = .parameter; stale.requiresGrad = true; stale.name = "stale"
        _ = try matmul(stale, stale)
        var rng = Philox(seed: 3)
        let w1 = Tensor.randn([4, 4], &rng), w2 = Tensor.randn([4, 4], &rng)
        for (i, w) in [w1, w2].enumerated() { w.kind = .parameter; w.requiresGrad = true; w.name = "w\(i + 1)" }
        let flat = FlatBuffer([w1, w2], withGradients: true)
        XCTAssertEqual(w2.offset, 16)
        let x = Tensor.randn([2, 4], &rng)
        let h = try matmul(x, w1)
        let y = try matmul(h, w2)
        var order: [String] = []
        try y.backward(gradient: Tensor(filled: 1, shape: y.shape)) { order.append($0.name) }
        XCTAssertEqual(order, ["w2", "w1"], "w2 is read last, so its gradient is final first")
        XCTAssertEqual(Autograd.tapeLength, 0)
        // Gradients live in the flat buffer.
        XCTAssertTrue(w1.grad!.storage === flat.grads!)
        let g1 = w1.grad!.array
        // Accumulation: a second backward adds the same amount.
        let y2 = try matmul(try matmul(x, w1), w2)
        try y2.backward(gradient: Tensor(filled: 1, shape: y.shape))
        for (a, b) in zip(w1.grad!.array, g1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-5) }
        flat.zeroGrad()
        XCTAssertTrue(w1.grad!.array.allSatisfy { $0 == 0 })
    }

    func testNoGradAndDetachRecordNothing() throws {
        let w = Tensor(filled: 1, shape: [2, 2]); w.requiresGrad = true
        let x = Tensor(filled: 1, shape: [2, 2])
        let y = try Autograd.noGrad { try matmul(x, w) }
        XCTAssertFalse(y.requiresGrad); XCTAssertEqual(Autograd.tapeLength, 0)
        let z = try matmul(x, w.detach())
        XCTAssertFalse(z.requiresGrad)
    }
}

