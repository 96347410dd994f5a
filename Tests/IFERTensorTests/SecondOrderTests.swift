import XCTest
@testable import IFERTensor

/// Second-order gradients (Autograd.grad with createGraph), one line per golden case
/// (scripts/golden/second_order.py): the createGraph gradient and a Hessian-vector product
/// against torch.autograd.grad(create_graph=True), and the HVP against finite differences of
/// the first gradient (SecondOrderHarness.swift).
final class SecondOrderTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    func testElementwise() {
        checkSecondOrder("add_broadcast") { try square(try add($0[0], $0[1])) }
        checkSecondOrder("sub_broadcast") { try square(try sub($0[0], $0[1])) }
        checkSecondOrder("mul_broadcast") { try mul(try mul($0[0], $0[1]), $0[0]) }
        checkSecondOrder("div_broadcast") { try div($0[0], $0[1]) }
        checkSecondOrder("scale_addscalar_neg") { neg(try mul(addScalar(scale($0[0], 1.5), 0.25), $0[1])) }
        checkSecondOrder("exp") { exp($0[0]) }
        checkSecondOrder("log") { log($0[0]) }
        checkSecondOrder("sqrt") { sqrt($0[0]) }
        checkSecondOrder("rsqrt") { rsqrt($0[0]) }
        checkSecondOrder("square") { try mul(square($0[0]), $0[1]) }
        checkSecondOrder("pow") { pow($0[0], 3) }
        checkSecondOrder("abs") { try mul(abs($0[0]), $0[1]) }
        checkSecondOrder("relu") { try mul(relu($0[0]), $0[1]) }
        checkSecondOrder("sigmoid") { sigmoid($0[0]) }
        checkSecondOrder("tanh") { tanh($0[0]) }
        checkSecondOrder("bias_leaky_relu") {
            square(leakyRelu(try add($0[0], try reshape($0[1], [3, 1, 1])), slope: 0.2, gain: Float(2).squareRoot()))
        }
        // The same fixture through the fused op FusedLeakyReLU uses.
        checkSecondOrder("bias_leaky_relu") { square(try biasLeakyRelu($0[0], bias: $0[1], slope: 0.2, gain: Float(2).squareRoot())) }
    }

    func testReductions() {
        checkSecondOrder("sum_axes") { square(try sum($0[0], axes: [0, 2], keepDims: true)) }
        checkSecondOrder("mean_axes") { square(try mean($0[0], axes: [1])) }
        checkSecondOrder("sum_all") { try mul(square(sumAll($0[0])), $0[0]) }
        checkSecondOrder("mean_all") { try mul(square(meanAll($0[0])), $0[0]) }
    }

    func testShapeOps() {
        checkSecondOrder("reshape") { try mul(try reshape($0[0], [4, 6]), $0[1]) }
        checkSecondOrder("permute") { try mul(try permute($0[0], [2, 0, 1]), $0[1]) }
        checkSecondOrder("concat") { try mul(try concat([$0[0], $0[1]], axis: 1), $0[2]) }
        checkSecondOrder("slice") { try mul(try slice($0[0], axis: 1, start: 1, end: 3), $0[1]) }
    }

    func testLinearLayers() {
        checkSecondOrder("matmul") { try matmul($0[0], $0[1]) }
        checkSecondOrder("matmul_batched_shared") { square(try matmul($0[0], $0[1], transposeB: true)) }
        checkSecondOrder("matmul_transposed") { try matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        checkSecondOrder("equal_linear_lrelu") {
            let y = try add(try matmul($0[0], scale($0[1], 0.5), transposeB: true), scale($0[2], 0.01))
            return square(leakyRelu(y, slope: 0.2, gain: Float(2).squareRoot()))
        }
        checkSecondOrder("pixel_norm") { try pixelNorm($0[0], eps: 1e-8) }
    }

    func testConvolutions() {
        checkSecondOrder("conv2d_dense", fdStep: 0.05) { try conv2d($0[0], $0[1]) }
        checkSecondOrder("conv2d_padded_bias", fdStep: 0.05) { square(try conv2d($0[0], $0[1], bias: $0[2], padding: 1)) }
        checkSecondOrder("conv2d_strided", fdStep: 0.05) { square(try conv2d($0[0], $0[1], bias: $0[2], stride: 2)) }
        checkSecondOrder("conv2d_grouped", fdStep: 0.05) { square(try conv2d($0[0], $0[1], padding: 1, groups: 2)) }
        checkSecondOrder("conv2d_depthwise", fdStep: 0.05) { square(try conv2d($0[0], $0[1], padding: 1, groups: 3)) }
        checkSecondOrder("conv2d_1x1_strided", fdStep: 0.05) { square(try conv2d($0[0], $0[1], stride: 2)) }
        checkSecondOrder("conv_transpose2d", fdStep: 0.05) { square(try convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2)) }
        Winograd.forced = true
        defer { Winograd.forced = nil }
        checkSecondOrder("conv2d_winograd", fdStep: 0.1) { square(try conv2d($0[0], $0[1], padding: 1)) }
    }

    func testFIRFilters() {
        let k = blur4(gain: 1)
        checkSecondOrder("upfirdn2d_blur") { try mul(try upfirdn2d($0[0], kernel: k, k: 4, pad: (2, 1)), $0[1]) }
        checkSecondOrder("upfirdn2d_up2") { try mul(try upfirdn2d($0[0], kernel: blur4(gain: 4), k: 4, up: 2, pad: (2, 1)), $0[1]) }
        checkSecondOrder("upfirdn2d_down2") { try mul(try upfirdn2d($0[0], kernel: k, k: 4, down: 2, pad: (1, 1)), $0[1]) }
    }

    /// The StyleGAN2 discriminator's minibatch stddev channel, written as StyleGANDiscriminator does.
    func testMinibatchStddev() {
        checkSecondOrder("minibatch_stddev") { xs in
            let h = xs[0], b = 4, g = 4, c = 3
            let grouped = try reshape(h, [g, b / g, c, 2, 2])
            let centred = try sub(grouped, try mean(grouped, axes: [0], keepDims: true))
            let sd = sqrt(addScalar(try mean(square(centred), axes: [0]), 1e-8))
            let rows = try reshape(try mean(sd, axes: [1, 2, 3]), [1, b / g, 1, 1, 1])
            let channel = try add(Tensor(zeros: [g, b / g, 1, 2, 2]), rows)
            return try concat([h, try reshape(channel, [b, 1, 2, 2])], axis: 1)
        }
    }

    /// ModulatedConv2d's shared-conv form against rosinality's per-sample grouped weights.
    func testModulatedConv() {
        checkSecondOrder("modulated_conv", fdStep: 0.01) { try modulated($0[0], $0[1], $0[2], up: false) }
        checkSecondOrder("modulated_conv_up", fdStep: 0.01) { try modulated($0[0], $0[1], $0[2], up: true) }
    }

    /// A gradient with createGraph of an op without a differentiable backward names the op.
    func testUndifferentiableOpIsNamed() throws {
        let x = try Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
        let y = sumAll(gelu(x))
        XCTAssertThrowsError(try Autograd.grad(of: [y], wrt: [x], createGraph: true)) {
            XCTAssertTrue("\($0)".contains("gelu"), "\($0)")
        }
        let plain = try Tensor([1, 2], shape: [2])
        XCTAssertThrowsError(try Autograd.grad(of: [y], wrt: [plain])) { XCTAssertTrue("\($0)".contains("does not require")) }
        XCTAssertThrowsError(try Autograd.grad(of: [gelu(x)], wrt: [x])) { XCTAssertTrue("\($0)".contains("not a scalar")) }
    }

    /// Gradients of gradients of gradients: d³/dx³ Σ x⁴ = 24 x, through grad with createGraph twice.
    func testThirdOrder() throws {
        let x = try Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
        let g1 = try Autograd.grad(of: [sumAll(pow(x, 4))], wrt: [x], createGraph: true)[0]     // 4x³
        let g2 = try Autograd.grad(of: [sumAll(g1)], wrt: [x], createGraph: true)[0]            // 12x²
        let g3 = try Autograd.grad(of: [sumAll(g2)], wrt: [x])[0]                               // 24x
        XCTAssertLessThan(relError(g1.array, [0.5, -4, 32]), 1e-6)
        XCTAssertLessThan(relError(g2.array, [3, 12, 48]), 1e-6)
        XCTAssertLessThan(relError(g3.array, [12, -24, 48]), 1e-6)
    }

    /// grad() leaves the tape and .grad alone: the forward can still be back-propagated, and
    /// the fast backward gives the same first gradient.
    func testGradKeepsTheTape() throws {
        let x = try Tensor([0.5, -1, 2], shape: [3], requiresGrad: true)
        let y = sumAll(try mul(square(x), x))                       // Σ x³
        let g = try Autograd.grad(of: [y], wrt: [x])[0]
        XCTAssertFalse(g.requiresGrad)
        XCTAssertNil(x.grad)
        try y.backward()
        XCTAssertEqual(x.grad?.array ?? [], g.array)
        XCTAssertEqual(g.array, [0.75, 3, 12])
    }
}

private func blur4(gain: Float) -> [Float] {
    let t: [Float] = [1, 3, 3, 1]
    var k = [Float]()
    for a in t { for b in t { k.append(a * b / 64 * gain) } }
    return k
}

private func modulated(_ x: Tensor, _ w: Tensor, _ s: Tensor, up: Bool) throws -> Tensor {
    let b = x.dim(0), cin = x.dim(1), cout = w.dim(0), k = w.dim(2)
    let ws = scale(w, 1 / Float(cin * k * k).squareRoot())                               // [out, in, k, k]
    let xs = try mul(x, try reshape(s, [b, cin, 1, 1]))                                   // [B, in, H, W]
    let y = up ? try convTranspose2d(xs, try permute(ws, [1, 0, 2, 3]), stride: 2)
               : try conv2d(xs, ws, padding: k / 2)
    let energy = try matmul(square(s), try sum(square(ws), axes: [2, 3]), transposeB: true)   // [B, out]
    return try mul(y, try reshape(rsqrt(addScalar(energy, 1e-8)), [b, cout, 1, 1]))
}
