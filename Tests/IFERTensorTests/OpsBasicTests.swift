import XCTest
@testable import IFERTensor

/// One line per golden case (scripts/golden/ops_basic.py): forward and backward against
/// PyTorch, backward against finite differences.
final class OpsBasicTests: XCTestCase {
    func testBinaryBroadcasting() {
        for tag in ["same", "bias", "channel", "outer", "left", "mixed", "scalar"] {
            checkOp("add_\(tag)") { try add($0[0], $0[1]) }
            checkOp("sub_\(tag)") { try sub($0[0], $0[1]) }
            checkOp("mul_\(tag)") { try mul($0[0], $0[1]) }
            checkOp("div_\(tag)") { try div($0[0], $0[1]) }
        }
    }

    func testUnary() {
        checkOp("addScalar") { addScalar($0[0], 1.5) }
        checkOp("scale") { scale($0[0], -0.75) }
        checkOp("neg") { neg($0[0]) }
        checkOp("exp") { exp($0[0]) }
        checkOp("log") { log($0[0]) }
        checkOp("sqrt") { sqrt($0[0]) }
        checkOp("rsqrt") { rsqrt($0[0]) }
        checkOp("square") { square($0[0]) }
        checkOp("pow3") { pow($0[0], 3) }
        checkOp("pow_half") { pow($0[0], 0.5) }
        checkOp("pow_neg") { pow($0[0], -1.5) }
        checkOp("abs") { abs($0[0]) }
    }

    func testActivations() {
        checkOp("relu") { relu($0[0]) }
        checkOp("leakyRelu") { leakyRelu($0[0], slope: 0.1) }
        checkOp("leakyRelu_stylegan") { leakyRelu($0[0], slope: 0.2, gain: Float(2).squareRoot()) }
        checkOp("gelu") { gelu($0[0]) }
        checkOp("sigmoid") { sigmoid($0[0]) }
        checkOp("tanh") { tanh($0[0]) }
    }

    /// The fused bias + leaky ReLU equals the two ops it replaces (add, then leakyRelu), forward
    /// and both gradients, on images and on [N, C] rows; slope 0 is refused (the backward reads
    /// the slope's side off the output's sign).
    func testBiasLeakyReluIsAddThenLeakyRelu() throws {
        var rng = Philox(seed: 3)
        for shape in [[2, 5, 3, 4], [3, 7]] {
            let x = Tensor.randn(shape, &rng), bias = Tensor.randn([shape[1]], &rng), g = Tensor.randn(shape, &rng)
            x.requiresGrad = true; bias.requiresGrad = true
            var results: [[[Float]]] = []
            for fused in [false, true] {
                x.grad = nil; bias.grad = nil
                let y = fused ? try biasLeakyRelu(x, bias: bias, slope: 0.2, gain: 1.5)
                    : leakyRelu(try add(x, try reshape(bias, [shape[1]] + [Int](repeating: 1, count: shape.count - 2))), slope: 0.2, gain: 1.5)
                try y.backward(gradient: g)
                results.append([y.array, x.grad?.array ?? [], bias.grad?.array ?? []])
            }
            for (what, (a, b)) in zip(["forward", "dx", "dbias"], zip(results[0], results[1])) {
                XCTAssertLessThan(relError(b, a), 1e-6, "\(what), x \(shape)")
            }
        }
        XCTAssertThrowsError(try biasLeakyRelu(Tensor(zeros: [1, 2, 2, 2]), bias: Tensor(zeros: [2]), slope: 0))
        XCTAssertThrowsError(try biasLeakyRelu(Tensor(zeros: [1, 2, 2, 2]), bias: Tensor(zeros: [3])))
    }

    func testReductions() {
        checkOp("sum_axis1") { try sum($0[0], axes: [1]) }
        checkOp("sum_axes02") { try sum($0[0], axes: [0, 2]) }
        checkOp("sum_last_keep") { try sum($0[0], axes: [-1], keepDims: true) }
        checkOp("sum_all_axes") { try sum($0[0], axes: [2, 0, 1]) }
        checkOp("sum_long_rows") { try sum($0[0], axes: [1]) }
        checkOp("mean_axis0") { try mean($0[0], axes: [0]) }
        checkOp("mean_axes12_keep") { try mean($0[0], axes: [1, 2], keepDims: true) }
        checkOp("mean_nchw_channel") { try mean($0[0], axes: [0, 2, 3]) }
        checkOp("sumAll") { sumAll($0[0]) }
        checkOp("meanAll") { meanAll($0[0]) }
    }

    func testSoftmax() {
        checkOp("softmax_last") { try softmax($0[0]) }
        checkOp("softmax_axis1") { try softmax($0[0], axis: 1) }
        checkOp("softmax_axis0") { try softmax($0[0], axis: 0) }
        checkOp("softmax_large", fd: false) { try softmax($0[0]) }
        checkOp("logSoftmax_last") { try logSoftmax($0[0]) }
        checkOp("logSoftmax_axis1") { try logSoftmax($0[0], axis: 1) }
        checkOp("logSoftmax_large", fd: false) { try logSoftmax($0[0]) }
    }

    func testNorm() {
        checkOp("layerNorm_affine") { try layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkOp("layerNorm_plain") { try layerNorm($0[0]) }
        checkOp("layerNorm_weight") { try layerNorm($0[0], weight: $0[1]) }
        checkOp("layerNorm_wide") { try layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkOp("pixelNorm_vec") { try pixelNorm($0[0]) }
        checkOp("pixelNorm_map") { try pixelNorm($0[0]) }
    }

    func testShape() {
        checkOp("reshape") { try reshape($0[0], [6, -1]) }
        checkOp("permute_201") { try permute($0[0], [2, 0, 1]) }
        checkOp("permute_heads") { try permute($0[0], [0, 2, 1, 3]) }
        checkOp("permute_identity") { try permute($0[0], [0, 1, 2]) }
        checkOp("transpose_last") { try transpose($0[0], -1, -2) }
        checkOp("concat_axis1") { try concat($0, axis: 1) }
        checkOp("concat_axis0") { try concat($0, axis: 0) }
        checkOp("concat_last") { try concat($0, axis: -1) }
        checkOp("split_axis1") { x in
            try concat(split(x[0], sizes: [1, 2, 1], axis: 1).enumerated().map { scale($1, Float($0 + 1)) }, axis: 1)
        }
        checkOp("slice_axis0") { try slice($0[0], axis: 0, start: 1, end: 3) }
        checkOp("slice_axis1") { try slice($0[0], axis: 1, start: 1, end: 3) }
        checkOp("slice_last") { try slice($0[0], axis: -1, start: 3, end: 4) }
    }

    func testWindows() {
        checkOp("windowPartition") { try windowPartition($0[0], window: 2) }
        checkOp("windowPartition_rect") { try windowPartition($0[0], window: 2) }
        checkOp("windowReverse") { try windowReverse($0[0], window: 2, height: 4, width: 4) }
        checkOp("windowReverse_rect") { try windowReverse($0[0], window: 2, height: 4, width: 6) }
        checkOp("indexSelect") { try indexSelect($0[0], axis: 0, indices: [0, 2, 2, 4, 1, 0]) }
        checkOp("indexSelect_axis1") { try indexSelect($0[0], axis: 1, indices: [0, 2, 2, 4, 1, 0]) }
    }

    func testLosses() {
        checkOp("mseLoss") { try mseLoss($0[0], $0[1]) }
        checkOp("cosineSimilarity_last") { try cosineSimilarity($0[0], $0[1]) }
        checkOp("cosineSimilarity_axis1") { try cosineSimilarity($0[0], $0[1], axis: 1) }
        checkOp("crossEntropy_soft") { try crossEntropy($0[0], softTargets: $0[1]) }
        checkOp("crossEntropy_labels") { try crossEntropy($0[0], labels: [1, 0, 4, 2]) }
        checkOp("crossEntropy_smooth") { try crossEntropy($0[0], labels: [1, 0, 4, 2], labelSmoothing: 0.1) }
        checkOp("klDivergence_batchmean") { try klDivergence($0[0], $0[1], reduction: .batchmean) }
        checkOp("klDivergence_mean") { try klDivergence($0[0], $0[1], reduction: .mean) }
        checkOp("klDivergence_sum") { try klDivergence($0[0], $0[1], reduction: .sum) }
        checkOp("klDivergence_zero_target") { try klDivergence($0[0], $0[1]) }
    }

    // MARK: - Behaviour beyond the goldens

    /// Every bad shape or axis throws a TensorError whose message names the op and the shapes.
    func testBadShapesAndAxesThrowNamingTheOp() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 3]), v = Tensor(zeros: [2, 3, 4])
        func expect(_ op: String, _ mentions: [String] = [], _ body: () throws -> Any) {
            XCTAssertThrowsError(try body(), op) { e in
                XCTAssertTrue(e is TensorError, "\(op): \(e)")
                let m = "\(e)"
                XCTAssertTrue(m.hasPrefix(op + ":"), "message should start with the op: \(m)")
                for s in mentions { XCTAssertTrue(m.contains(s), "\(op): message should mention \(s): \(m)") }
            }
        }
        expect("add", ["[2, 3]", "[4, 3]"]) { try add(a, b) }
        expect("sub", ["[2, 3]", "[4, 3]"]) { try sub(a, b) }
        expect("mul", ["[2, 3]", "[4, 3]"]) { try mul(a, b) }
        expect("div", ["[2, 3]", "[4, 3]"]) { try div(a, b) }
        expect("sum", ["axis 2", "rank 2"]) { try sum(a, axes: [2]) }
        expect("sum") { try sum(a, axes: [0, -2]) }
        expect("mean", ["-3"]) { try mean(a, axes: [-3]) }
        expect("softmax", ["2"]) { try softmax(a, axis: 2) }
        expect("logSoftmax") { try logSoftmax(a, axis: -3) }
        expect("layerNorm", ["[2, 3]", "[4]"]) { try layerNorm(a, weight: Tensor(zeros: [4])) }
        expect("layerNorm", ["[2]"]) { try layerNorm(a, bias: Tensor(zeros: [2])) }
        expect("pixelNorm", ["[3]"]) { try pixelNorm(Tensor(zeros: [3])) }
        expect("reshape", ["[2, 3]", "[4, -1]"]) { try reshape(a, [4, -1]) }
        expect("reshape") { try reshape(a, [-1, -1]) }
        expect("permute", ["[2, 3]"]) { try permute(a, [0, 0]) }
        expect("permute", ["5"]) { try permute(a, [0, 5]) }
        expect("transpose") { try transpose(a, 0, 2) }
        expect("concat", ["[2, 3]", "[2, 3, 4]"]) { try concat([a, v], axis: 0) }
        expect("concat", ["[2, 3]", "[4, 3]"]) { try concat([a, b], axis: 1) }
        expect("concat") { try concat([], axis: 0) }
        expect("split", ["[2, 3]"]) { try split(a, sizes: [1, 1], axis: 1) }
        expect("slice", ["[2, 3]"]) { try slice(a, axis: 1, start: 2, end: 4) }
        expect("slice") { try slice(a, axis: 2, start: 0, end: 1) }
        expect("windowPartition", ["[2, 3, 4]"]) { try windowPartition(v, window: 2) }
        expect("windowPartition", ["[1, 3, 4, 2]"]) { try windowPartition(Tensor(zeros: [1, 3, 4, 2]), window: 2) }
        expect("windowReverse", ["[3, 2, 2, 1]"]) { try windowReverse(Tensor(zeros: [3, 2, 2, 1]), window: 2, height: 4, width: 4) }
        expect("indexSelect", ["5", "[2, 3]"]) { try indexSelect(a, axis: 0, indices: [0, 5]) }
        expect("indexSelect") { try indexSelect(a, axis: 3, indices: [0]) }
        expect("mseLoss", ["[2, 3]", "[4, 3]"]) { try mseLoss(a, b) }
        expect("cosineSimilarity", ["[2, 3]", "[4, 3]"]) { try cosineSimilarity(a, b) }
        expect("cosineSimilarity") { try cosineSimilarity(a, a, axis: 2) }
        expect("crossEntropy", ["[2, 3, 4]"]) { try crossEntropy(v, labels: [0, 1]) }
        expect("crossEntropy", ["3"]) { try crossEntropy(a, labels: [0, 3]) }
        expect("crossEntropy", ["[2, 3]", "[1]"]) { try crossEntropy(a, labels: [0]) }
        expect("crossEntropy", ["[2, 3]", "[4, 3]"]) { try crossEntropy(a, softTargets: b) }
        expect("crossEntropy") { try crossEntropy(a, labels: [0, 1], labelSmoothing: 1.5) }
        expect("klDivergence", ["[2, 3]", "[4, 3]"]) { try klDivergence(a, b) }
    }

    /// Losses reject NaN and infinite inputs with `nonFinite` naming the op and the element.
    func testLossesRejectNonFiniteInputs() throws {
        let logits = try Tensor([0.5, .nan, 1, 2, 0, -1], shape: [2, 3], requiresGrad: true)
        XCTAssertThrowsError(try crossEntropy(logits, labels: [0, 2])) { e in
            guard case let TensorError.nonFinite(op, detail) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(op, "crossEntropy")
            XCTAssertTrue(detail.contains("element 1"), detail)
        }
        let inf = try Tensor([1, 2, .infinity, 4], shape: [2, 2])
        let ok = Tensor(zeros: [2, 2])
        XCTAssertThrowsError(try mseLoss(ok, inf)) { e in
            guard case let TensorError.nonFinite(op, detail) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(op, "mseLoss"); XCTAssertTrue(detail.contains("input 1"), detail)
        }
        XCTAssertThrowsError(try crossEntropy(ok, softTargets: inf)) { e in
            guard case TensorError.nonFinite("crossEntropy", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try klDivergence(inf, Tensor(filled: 0.25, shape: [2, 2]))) { e in
            guard case TensorError.nonFinite("klDivergence", _) = e else { return XCTFail("\(e)") }
        }
        // Finite inputs whose loss overflows are reported too.
        let big = Tensor(filled: 3e20, shape: [2, 2])
        XCTAssertThrowsError(try mseLoss(big, ok)) { e in
            guard case let TensorError.nonFinite(_, detail) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(detail.contains("finite"), detail)
        }
        XCTAssertEqual(Autograd.tapeLength, 0, "a rejected loss must not be recorded")
        Autograd.reset()
    }

    /// reshape and a leading-axis slice are views sharing storage; gradients still flow.
    func testReshapeAndLeadingSliceAreViews() throws {
        let x = try Tensor((0..<12).map(Float.init), shape: [3, 4], requiresGrad: true)
        let r = try reshape(x, [2, -1, 2])
        XCTAssertEqual(r.shape, [2, 3, 2])
        XCTAssertTrue(r.storage === x.storage)
        let s = try slice(x, axis: 0, start: 1, end: 2)
        XCTAssertTrue(s.storage === x.storage)
        XCTAssertEqual(s.array, [4, 5, 6, 7])
        try sumAll(add(sumAll(r), sumAll(s))).backward()
        XCTAssertEqual(x.grad?.array, [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1])
    }

    /// Softmax of huge logits stays finite; broadcasting a bias then reducing gives PyTorch's
    /// gradient layout on a transformer-like shape.
    func testStabilityAndBiasGradient() throws {
        let x = try Tensor([1000, 1001, 1002, -1000, 0, 1000], shape: [2, 3])
        let y = try softmax(x)
        XCTAssertTrue(y.array.allSatisfy(\.isFinite))
        XCTAssertEqual(try logSoftmax(x).array[5], 0, accuracy: 1e-6)
        var rng = Philox(seed: 3)
        let h = Tensor.randn([2, 5, 16], &rng)
        let bias = Tensor(zeros: [16], requiresGrad: true)
        try sumAll(add(h, bias)).backward()
        XCTAssertEqual(bias.grad?.array, [Float](repeating: 10, count: 16))
    }

    /// The vectorisable exp and erf kernels against double-precision libm over a wide grid,
    /// and softmax with -inf (masked) logits.
    func testFastExpAndGeluAccuracy() throws {
        let grid = stride(from: -20.0, through: 20.0, by: 0.0137).map { Float($0) }
        let x = try Tensor(grid, shape: [grid.count])
        let e = exp(x), gl = gelu(x)
        for (i, v) in grid.enumerated() {
            let d = Double(v)
            XCTAssertEqual(Double(e.ptr[i]), Foundation.exp(d), accuracy: 3e-7 * Foundation.exp(d), "exp(\(v))")
            let ref = 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))
            XCTAssertEqual(Double(gl.ptr[i]), ref, accuracy: 1e-6 * Swift.max(1, Swift.abs(d)), "gelu(\(v))")
        }
        let edge = exp(try Tensor([-.infinity, -100, 100, .nan, 0], shape: [5]))
        XCTAssertEqual(Array(edge.array[0..<3]), [0, 0, .infinity])
        XCTAssertTrue(edge.ptr[3].isNaN)
        XCTAssertEqual(edge.ptr[4], 1)
        let masked = try softmax(try Tensor([1, -.infinity, 1, -.infinity], shape: [1, 4]))
        XCTAssertEqual(masked.array, [0.5, 0, 0.5, 0])
    }
}
