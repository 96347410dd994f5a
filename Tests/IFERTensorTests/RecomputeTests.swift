import XCTest
@testable import IFERTensor

/// `Autograd.checkpoint`: the gradients with recompute equal the plain ones (drop-path masks
/// replayed), multi-output blocks, the parameter-ready hook, the second-order refusal, and the
/// lower peak of live tensor storage.
final class RecomputeTests: XCTestCase {
    /// One residual block: x + dropPath(tanh(x·W1)·W2), x [B, D].
    final class Block {
        let w1: Tensor, w2: Tensor
        init(_ d: Int, _ rng: inout Philox) {
            w1 = Tensor.randn([d, 4 * d], &rng, std: 0.3)
            w2 = Tensor.randn([4 * d, d], &rng, std: 0.3)
            for w in [w1, w2] { w.requiresGrad = true; w.kind = .parameter }
        }
        func plain(_ x: Tensor, _ rngs: inout [Philox]) throws -> Tensor {
            let h = tanh(try matmul(x, w1))                  // [B, 4D]
            return try add(x, try dropPath(try matmul(h, w2), p: 0.5, rngs: &rngs))
        }
        func callAsFunction(_ x: Tensor, _ rngs: inout [Philox], checkpointed: Bool) throws -> Tensor {
            guard checkpointed else { return try plain(x, &rngs) }
            return try Autograd.checkpoint("Block", inputs: [x], parameters: [w1, w2], rngs: &rngs) { t, r in
                [try self.plain(t[0], &r)]
            }[0]
        }
    }

    struct Run { let loss: Float; let gx: [Float]; let gw: [[Float]]; let peak: Int; let ready: Int }

    /// A chain of `depth` blocks on x [64, 16], loss = sum of squares; returns the gradients.
    func chain(checkpointed: Bool, depth: Int = 6) throws -> Run {
        var rng = Philox(seed: 5)
        let blocks = (0..<depth).map { _ in Block(16, &rng) }
        let x = Tensor.randn([64, 16], &rng)
        x.requiresGrad = true
        let start = Storage.live.bytes
        Storage.live.resetPeak()
        var rngs = (0..<64).map { Philox(seed: 9, UInt64($0)) }
        var h = x
        for b in blocks { h = try b(h, &rngs, checkpointed: checkpointed) }
        let loss = sumAll(try mul(h, h))
        var ready = 0
        try loss.backward(onGradReady: { _ in ready += 1 })
        let peak = Storage.live.peak - start
        return Run(loss: loss.item, gx: x.grad?.array ?? [], gw: blocks.flatMap { [$0.w1.grad?.array ?? [], $0.w2.grad?.array ?? []] },
                   peak: peak, ready: ready)
    }

    func testGradientsEqualThePlainOnesAndThePeakIsLower() throws {
        let plain = try chain(checkpointed: false)
        let ckpt = try chain(checkpointed: true)
        XCTAssertEqual(plain.loss, ckpt.loss, "the forward is the same computation")
        XCTAssertEqual(plain.gx, ckpt.gx, "input gradient, bitwise")
        XCTAssertEqual(plain.gw.count, ckpt.gw.count)
        for (a, b) in zip(plain.gw, ckpt.gw) { XCTAssertEqual(a, b, "parameter gradient, bitwise") }
        XCTAssertTrue(plain.gw.allSatisfy { $0.contains { $0 != 0 } })
        XCTAssertEqual(plain.ready, ckpt.ready, "every parameter is reported ready once")
        XCTAssertEqual(ckpt.ready, 12)
        XCTAssertLessThan(Double(ckpt.peak), 0.7 * Double(plain.peak), "peak \(ckpt.peak) B with recompute, \(plain.peak) B without")
        XCTAssertEqual(Autograd.tapeLength, 0, "the sub-tapes and the outer tape are released")
    }

    func testRandomGeneratorsAdvanceAsWithoutCheckpointing() throws {
        var rng = Philox(seed: 1)
        let block = Block(4, &rng)
        let x = Tensor.randn([3, 4], &rng)
        x.requiresGrad = true
        var a = (0..<3).map { Philox(seed: 2, UInt64($0)) }, b = a
        _ = try block(x, &a, checkpointed: false)
        Autograd.reset()
        _ = try block(x, &b, checkpointed: true)
        XCTAssertEqual(a, b, "the forward draws the masks once, from the caller's generators")
        Autograd.reset()
    }

    func testMultipleOutputsAndUnusedOutput() throws {
        func run(_ checkpointed: Bool, useSecond: Bool) throws -> ([Float], [Float]) {
            var rng = Philox(seed: 3)
            let w = Tensor.randn([5, 5], &rng)
            w.requiresGrad = true
            w.kind = .parameter
            let x = Tensor.randn([2, 5], &rng), s = Tensor.randn([2, 5], &rng)
            x.requiresGrad = true
            s.requiresGrad = true
            let body: Autograd.CheckpointBody = { t, _ in
                let y = try matmul(t[0], w)
                return [tanh(y), try add(t[1], y)]
            }
            var none: [Philox] = []
            let outs = checkpointed ? try Autograd.checkpoint("two", inputs: [x, s], parameters: [w], rngs: &none, body)
                                    : try body([x, s], &none)
            let l = useSecond ? try add(sumAll(try mul(outs[0], outs[0])), sumAll(outs[1])) : sumAll(outs[0])
            try l.backward()
            return ((x.grad?.array ?? []) + (s.grad?.array ?? []), w.grad?.array ?? [])
        }
        for use in [true, false] {
            let p = try run(false, useSecond: use), c = try run(true, useSecond: use)
            XCTAssertEqual(p.0, c.0, "input gradients, second output used: \(use)")
            XCTAssertEqual(p.1, c.1, "parameter gradient, second output used: \(use)")
        }
    }

    func testNoGradAndFrozenInputsRunThePlainBody() throws {
        var rng = Philox(seed: 4)
        let block = Block(4, &rng)
        for w in [block.w1, block.w2] { w.requiresGrad = false }
        let x = Tensor.randn([2, 4], &rng)
        var rngs = (0..<2).map { Philox(seed: 1, UInt64($0)) }
        let y = try block(x, &rngs, checkpointed: true)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(Autograd.tapeLength, 0, "nothing to differentiate: nothing recorded")
    }

    func testSecondOrderGradientThroughACheckpointedBlockIsRefused() throws {
        var rng = Philox(seed: 6)
        let block = Block(4, &rng)
        let x = Tensor.randn([2, 4], &rng)
        x.requiresGrad = true
        var rngs = (0..<2).map { Philox(seed: 1, UInt64($0)) }
        let y = sumAll(try block(x, &rngs, checkpointed: true))
        XCTAssertThrowsError(try Autograd.grad(of: [y], wrt: [x], createGraph: true)) { e in
            XCTAssertTrue("\(e)".contains("Block is activation-checkpointed"), "\(e)")
            XCTAssertTrue("\(e)".contains("activation_checkpointing"), "\(e)")
        }
        Autograd.reset()
    }
}
