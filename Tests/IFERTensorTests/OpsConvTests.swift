import XCTest
@testable import IFERTensor

/// Image ops, one line per golden case (scripts/golden/ops_conv.py): forward and backward against
/// PyTorch, backward against finite differences.
final class OpsConvTests: XCTestCase {
    func testConv2d() {
        checkOp("conv2d_dense") { try conv2d($0[0], $0[1]) }
        checkOp("conv2d_padded_bias") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        checkOp("conv2d_strided") { try conv2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1) }
        checkOp("conv2d_strided_nopad") { try conv2d($0[0], $0[1], stride: 2) }
        checkOp("conv2d_grouped") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1, groups: 2) }
        checkOp("conv2d_depthwise") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1, groups: 3) }
        checkOp("conv2d_depthwise_mult_strided") { try conv2d($0[0], $0[1], stride: 2, padding: 1, groups: 2) }
        checkOp("conv2d_1x1_bias") { try conv2d($0[0], $0[1], bias: $0[2]) }
        checkOp("conv2d_1x1_single") { try conv2d($0[0], $0[1]) }
        checkOp("conv2d_1x1_strided") { try conv2d($0[0], $0[1], stride: 2) }
        checkOp("conv2d_rect_kernel") { try conv2d($0[0], $0[1], padding: 1) }
        checkOp("conv2d_patch4") { try conv2d($0[0], $0[1], bias: $0[2], stride: 4) }
        checkOp("conv2d_batch5") { try conv2d($0[0], $0[1], padding: 1) }
        // Too few tiles to choose Winograd by themselves: forced, so the fixtures check it. Its
        // float32 rounding needs larger finite-difference steps (see below).
        Winograd.forced = true
        defer { Winograd.forced = nil }
        checkOp("conv2d_winograd_pad1", fdStep: 0.1) { try conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        checkOp("conv2d_winograd_pad0", fdStep: 0.1) { try conv2d($0[0], $0[1]) }
    }

    /// Every 3x3 stride-1 case through Winograd F(4x4, 3x3) even at 2-4 channels, and the
    /// Winograd cases through im2col, so both paths meet PyTorch on the same fixtures.
    func testConvWinogradForcedBothWays() {
        Winograd.forced = true
        checkOp("conv2d_dense", fdStep: 0.1) { try conv2d($0[0], $0[1]) }
        checkOp("conv2d_padded_bias", fdStep: 0.1) { try conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        checkOp("conv2d_batch5", fdStep: 0.1) { try conv2d($0[0], $0[1], padding: 1) }
        checkOp("conv_transpose2d_s1", fdStep: 0.1) { try convTranspose2d($0[0], $0[1], stride: 1, padding: 1) }
        Winograd.forced = false
        checkOp("conv2d_winograd_pad1") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        checkOp("conv2d_winograd_pad0") { try conv2d($0[0], $0[1]) }
        Winograd.forced = nil
    }

    /// f(inputs) forward and every input's gradient (seeded with a fixed random output gradient)
    /// at one and at two BLAS threads: the results must be the same bits.
    /// `tolerance` > 0: equal within that relative error instead (ops whose GEMM is cut into
    /// blocks at two threads).
    func assertSameBitsAtOneAndTwoThreads(_ name: String, _ inputs: [Tensor], tolerance: Float = 0, _ f: ([Tensor]) throws -> Tensor,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let before = Threads.blas
        defer { Threads.setBLAS(before) }
        for x in inputs { x.requiresGrad = true }
        var results: [[[Float]]] = []
        for threads in [1, 2] {
            Threads.setBLAS(threads)
            for x in inputs { x.grad = nil }
            let y = try f(inputs)
            var seedRNG = Philox(seed: 9)
            try y.backward(gradient: Tensor.randn(y.shape, &seedRNG))
            results.append([y.array] + inputs.map { $0.grad?.array ?? [] })
        }
        for (i, (one, two)) in zip(results[0], results[1]).enumerated() {
            let what = i == 0 ? "\(name): forward" : "\(name): gradient of input \(i - 1)"
            let scale = max(one.map(Swift.abs).max() ?? 0, 1e-30)
            let worst = zip(one, two).map { Swift.abs($0 - $1) }.max() ?? 0
            if tolerance == 0 {
                let differ = zip(one, two).filter { $0.0.bitPattern != $0.1.bitPattern }.count
                XCTAssertEqual(differ, 0, "\(what): \(differ) of \(one.count) values differ (largest by \(worst / scale) relative)", file: file, line: line)
                continue
            }
            XCTAssertLessThanOrEqual(worst / scale, tolerance, what, file: file, line: line)
        }
    }

    /// The threaded passes split work by channel, by frequency (Winograd) or by rows of elements,
    /// never inside one sum, so forward and gradients are bitwise equal at one and two threads.
    func testSameBitsAtOneAndTwoThreads() throws {
        defer { Winograd.forced = nil }
        var rng = Philox(seed: 5)
        func randn(_ shape: [Int], std: Float = 1) -> Tensor { Tensor.randn(shape, &rng, std: std) }
        Winograd.forced = true
        try assertSameBitsAtOneAndTwoThreads("winograd", [randn([3, 32, 21, 19]), randn([48, 32, 3, 3], std: 0.05)]) {
            try conv2d($0[0], $0[1], padding: 1)
        }
        // im2col / col2im split by channel: the same bits. The im2col convolution around them is
        // not bitwise at two threads: its GEMM is cut into blocks of C, and OpenBLAS sums the
        // elements at a block's edge with other micro-kernels (about 1 in 10 values differs in the
        // last bits), so the whole op is compared within 1e-5.
        let window = Window(channels: 16, height: 64, width: 63, kh: 3, kw: 3, stride: 2, padding: 1, outH: 32, outW: 32)
        let image = randn([16, 64, 63]), columns = randn([window.patchSize, 32 * 32])
        var unfolded: [[Float]] = [], folded: [[Float]] = []
        let before = Threads.blas
        for threads in [1, 2] {
            Threads.setBLAS(threads)
            let col = Tensor(zeros: [window.patchSize, 32 * 32]), back = Tensor(zeros: [16, 64, 63])
            window.im2col(image.ptr, col.ptr, ld: 32 * 32, rows: 0..<32)
            window.col2im(columns.ptr, ld: 32 * 32, back.ptr, rows: 0..<32)
            unfolded.append(col.array); folded.append(back.array)
        }
        Threads.setBLAS(before)
        XCTAssertEqual(unfolded[0], unfolded[1], "im2col")
        XCTAssertEqual(folded[0], folded[1], "col2im")
        Winograd.forced = false
        try assertSameBitsAtOneAndTwoThreads("im2col", [randn([3, 32, 21, 19]), randn([48, 32, 3, 3], std: 0.05)], tolerance: 1e-5) {
            try conv2d($0[0], $0[1], padding: 1)
        }
        try assertSameBitsAtOneAndTwoThreads("im2col_stride2", [randn([2, 16, 64, 64]), randn([32, 16, 3, 3], std: 0.05)], tolerance: 1e-5) {
            try conv2d($0[0], $0[1], stride: 2, padding: 1)
        }
        Winograd.forced = nil
        // Products: one cut by rows and one by columns (within 1e-5, as above), a batch over the
        // threads and a batch summing into one shared gradient (rank-2 B under transposeA): bitwise.
        try assertSameBitsAtOneAndTwoThreads("matmul_rows", [randn([300, 257]), randn([257, 96])], tolerance: 1e-5) { try matmul($0[0], $0[1]) }
        try assertSameBitsAtOneAndTwoThreads("matmul_columns", [randn([70, 129]), randn([300, 129])], tolerance: 1e-5) {
            try matmul($0[0], $0[1], transposeB: true)
        }
        try assertSameBitsAtOneAndTwoThreads("matmul_batch", [randn([24, 64, 32]), randn([24, 64, 32])]) { try matmul($0[0], $0[1], transposeB: true) }
        try assertSameBitsAtOneAndTwoThreads("matmul_shared_b", [randn([16, 96, 64]), randn([96, 80])]) { try matmul($0[0], $0[1], transposeA: true) }
        // Elementwise: same shapes (one row cut in pieces), rows (bias over channels), broadcast
        // operands (their gradients summed row after row), unary maps.
        let big = [4, 32, 32, 32]
        try assertSameBitsAtOneAndTwoThreads("add", [randn(big), randn(big)]) { try add($0[0], $0[1]) }
        try assertSameBitsAtOneAndTwoThreads("mul_channel", [randn(big), randn([1, 32, 1, 1])]) { try mul($0[0], $0[1]) }
        try assertSameBitsAtOneAndTwoThreads("div_rows", [randn(big), addScalar(abs(randn([32, 1])), 1)]) { try div($0[0], $0[1]) }
        try assertSameBitsAtOneAndTwoThreads("sub_scalar", [randn(big), randn([1])]) { try sub($0[0], $0[1]) }
        try assertSameBitsAtOneAndTwoThreads("gelu", [randn(big)]) { gelu($0[0]) }
        try assertSameBitsAtOneAndTwoThreads("layer_norm", [randn([4, 1024, 96]), randn([96]), randn([96])]) {
            try layerNorm($0[0], weight: $0[1], bias: $0[2])
        }
        try assertSameBitsAtOneAndTwoThreads("exp_leaky", [randn(big)]) { leakyRelu(exp($0[0]), slope: 0.2, gain: 1.4) }
        try assertSameBitsAtOneAndTwoThreads("bias_leaky_relu", [randn(big), randn([32])]) { try biasLeakyRelu($0[0], bias: $0[1], gain: 1.4) }
    }

    /// Winograd against im2col at the benchmark's 64 channels, on sizes with partial tiles, tails
    /// of the eight-tile vectors, several blocks of tile rows and paddings 0-2: forward, dX and dW.
    func testWinogradMatchesIm2col() throws {
        defer { Winograd.forced = nil }
        for (n, c, o, h, w, pad) in [(3, 64, 48, 37, 37, 1), (2, 24, 64, 9, 50, 0), (1, 32, 32, 13, 6, 2), (2, 16, 16, 4, 4, 1),
                                      (2, 16, 32, 8, 8, 1), (5, 32, 16, 16, 16, 1), (1, 16, 16, 6, 6, 0)] {
            var rng = Philox(seed: UInt64(h * w))
            let x = Tensor.randn([n, c, h, w], &rng), wt = Tensor.randn([o, c, 3, 3], &rng, std: 0.05)
            x.requiresGrad = true; wt.requiresGrad = true
            var results: [[[Float]]] = []
            for forced in [false, true] {
                Winograd.forced = forced
                x.grad = nil; wt.grad = nil
                let y = try conv2d(x, wt, padding: pad)
                var seedRNG = Philox(seed: 7)
                let seed = Tensor.randn(y.shape, &seedRNG)
                try y.backward(gradient: seed)
                results.append([y.array, x.grad?.array ?? [], wt.grad?.array ?? []])
            }
            for (k, what) in ["forward", "dX", "dW"].enumerated() {
                XCTAssertEqual(results[0][k].count, results[1][k].count, what)
                XCTAssertLessThan(relError(results[1][k], results[0][k]), 2e-5, "\(what) for \((n, c, o, h, w, pad))")
            }
        }
    }

    /// The same cases with tiny GEMM tiles, so large-image code paths (bands of output rows,
    /// uneven last band, 1×1 convs reading the input in place) run on small fixtures.
    func testConvWithSmallTiles() {
        ConvShape.tileColumns = 7
        defer { ConvShape.tileColumns = nil }
        checkOp("conv2d_padded_bias") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1) }
        checkOp("conv2d_strided") { try conv2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1) }
        checkOp("conv2d_grouped") { try conv2d($0[0], $0[1], bias: $0[2], padding: 1, groups: 2) }
        checkOp("conv2d_1x1_bias") { try conv2d($0[0], $0[1], bias: $0[2]) }
        checkOp("conv2d_rect_kernel") { try conv2d($0[0], $0[1], padding: 1) }
        checkOp("conv_transpose2d_s2_pad") { try convTranspose2d($0[0], $0[1], stride: 2, padding: 1) }
    }

    func testConvTranspose2d() {
        checkOp("conv_transpose2d_s2") { try convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2) }
        checkOp("conv_transpose2d_s2_pad") { try convTranspose2d($0[0], $0[1], stride: 2, padding: 1) }
        checkOp("conv_transpose2d_s2_pad_outpad") { try convTranspose2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1) }
        checkOp("conv_transpose2d_grouped") { try convTranspose2d($0[0], $0[1], stride: 2, groups: 2) }
        checkOp("conv_transpose2d_depthwise") { try convTranspose2d($0[0], $0[1], stride: 2, padding: 1, groups: 3) }
        checkOp("conv_transpose2d_s1") { try convTranspose2d($0[0], $0[1], stride: 1, padding: 1) }
    }

    func testUpFirDn2d() {
        checkOp("upfirdn2d_blur") { try upfirdn2d($0[0], kernel: $0[1].array, k: 4, pad: (2, 1)) }
        checkOp("upfirdn2d_asym_kernel") { try upfirdn2d($0[0], kernel: $0[1].array, k: 3, pad: (1, 1)) }
        checkOp("upfirdn2d_up2") { try upfirdn2d($0[0], kernel: $0[1].array, k: 4, up: 2, pad: (2, 1)) }
        checkOp("upfirdn2d_down2") { try upfirdn2d($0[0], kernel: $0[1].array, k: 4, down: 2, pad: (1, 1)) }
        checkOp("upfirdn2d_negpad") { try upfirdn2d($0[0], kernel: $0[1].array, k: 3, up: 2, pad: (-1, -2)) }
        checkOp("upfirdn2d_up2_down2") { try upfirdn2d($0[0], kernel: $0[1].array, k: 3, up: 2, down: 2, pad: (1, 2)) }
    }

    /// A factored kernel (StyleGAN2's outer products) runs as two 1-D passes: the same numbers as
    /// the direct k×k taps to float rounding, forward and adjoint, for every up / down / pad the
    /// generator and discriminator use and a cropping one; the same bits at one and two threads.
    func testUpFirDnSeparableMatchesDirect() throws {
        var rng = Philox(seed: 11)
        for (taps, up, down, pad) in [([1, 3, 3, 1], 1, 1, (2, 1)), ([1, 3, 3, 1], 2, 1, (2, 1)), ([1, 3, 3, 1], 1, 2, (1, 1)),
                                      ([1, 3, 3, 1], 1, 1, (2, 2)), ([1, 2, 1], 2, 1, (-1, -2)), ([1, 2, 1], 3, 1, (1, 0))] as [([Float], Int, Int, (Int, Int))] {
            let k = taps.count
            let kernel = (0..<k * k).map { 4 * taps[$0 / k] * taps[$0 % k] / Float(64) }
            let (n, c, h, w) = (4, 32, 21, 19)   // enough planes that two threads split them
            let rows = try FIRTaps(op: "test", length: h, up: up, down: down, pad: pad, k: k, shape: [n, c, h, w])
            let cols = try FIRTaps(op: "test", length: w, up: up, down: down, pad: pad, k: k, shape: [n, c, h, w])
            let x = Tensor.randn([n, c, h, w], &rng), g = Tensor.randn([n, c, rows.outLength, cols.outLength], &rng)
            var outputs: [(name: String, y: [Float], gx: [Float])] = []
            for (name, factorise, threads) in [("direct", false, 1), ("separable", true, 1), ("separable, 2 threads", true, 2)] {
                let before = Threads.blas
                Threads.setBLAS(threads)
                defer { Threads.setBLAS(before) }
                let plan = UpFirDn(planes: n * c, h: h, w: w, up: up, down: down, kernel: kernel, k: k, rows: rows, cols: cols, factorise: factorise)
                XCTAssertEqual(plan.separable != nil, factorise, "taps \(taps) up \(up) down \(down)")
                let y = Tensor(zeros: g.shape), gx = Tensor(zeros: x.shape)
                plan.forward(x.ptr, y.ptr)
                plan.adjoint(g.ptr, gx.ptr)
                outputs.append((name, y.array, gx.array))
            }
            let label = "taps \(taps) up \(up) down \(down) pad \(pad)"
            XCTAssertLessThan(relError(outputs[0].y, outputs[1].y), 1e-6, "forward, \(label)")
            XCTAssertLessThan(relError(outputs[0].gx, outputs[1].gx), 1e-6, "adjoint, \(label)")
            XCTAssertEqual(outputs[1].y, outputs[2].y, "forward at 2 threads, \(label)")
            XCTAssertEqual(outputs[1].gx, outputs[2].gx, "adjoint at 2 threads, \(label)")
        }
        XCTAssertNil(UpFirDn.factor([1, 2, 3, 4], 2), "a rank-2 kernel does not factor")
    }

    func testPooling() {
        checkOp("maxpool2d_3x3s2p1") { try maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        checkOp("maxpool2d_3x3s2p1_even") { try maxPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        checkOp("maxpool2d_2x2") { try maxPool2d($0[0], kernel: 2, stride: 2) }
        checkOp("avgpool2d_3x3s2p1") { try avgPool2d($0[0], kernel: 3, stride: 2, padding: 1) }
        checkOp("avgpool2d_2x2") { try avgPool2d($0[0], kernel: 2, stride: 2) }
        checkOp("adaptive_avgpool2d_3x4") { try adaptiveAvgPool2d($0[0], outputSize: (3, 4)) }
        checkOp("adaptive_avgpool2d_up") { try adaptiveAvgPool2d($0[0], outputSize: (5, 3)) }
        checkOp("adaptive_avgpool2d_global") { try adaptiveAvgPool2d($0[0], outputSize: (1, 1)) }
    }

    func testResize() {
        checkOp("resize_bilinear_ac") { try resizeBilinear($0[0], height: 7, width: 9, alignCorners: true) }
        checkOp("resize_bilinear_ac_down") { try resizeBilinear($0[0], height: 3, width: 2, alignCorners: true) }
        checkOp("resize_bilinear_noac") { try resizeBilinear($0[0], height: 7, width: 3, alignCorners: false) }
        checkOp("resize_bilinear_noac_up2") { try resizeBilinear($0[0], height: 8, width: 8, alignCorners: false) }
        checkOp("resize_bilinear_to1") { try resizeBilinear($0[0], height: 1, width: 3, alignCorners: true) }
        checkOp("upsample_nearest_2x") { try upsampleNearest($0[0], scale: 2) }
        checkOp("upsample_nearest_3x") { try upsampleNearest($0[0], scale: 3) }
    }

    /// Bad shapes and arguments throw a TensorError that names the op (never a crash).
    func testBadArgumentsThrowNamingTheOp() {
        let x = Tensor(zeros: [1, 4, 5, 5]), x3 = Tensor(zeros: [4, 5, 5])
        let cases: [(String, () throws -> Tensor)] = [
            ("conv2d", { try conv2d(x3, Tensor(zeros: [2, 4, 3, 3])) }),                        // rank 3 input
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 4, 3])) }),                            // rank 3 weight
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 3, 3, 3])) }),                         // wrong in-channels
            ("conv2d", { try conv2d(x, Tensor(zeros: [3, 2, 3, 3]), groups: 2) }),              // O not divisible
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 2, 3, 3]), groups: 3) }),              // C not divisible
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 4, 7, 7])) }),                         // kernel > input
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 4, 3, 3]), stride: 0) }),
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 4, 3, 3]), padding: -1) }),
            ("conv2d", { try conv2d(x, Tensor(zeros: [2, 4, 3, 3]), bias: Tensor(zeros: [3])) }),
            ("convTranspose2d", { try convTranspose2d(x, Tensor(zeros: [3, 2, 3, 3])) }),       // wrong in-channels
            ("convTranspose2d", { try convTranspose2d(x, Tensor(zeros: [4, 2, 3, 3]), groups: 3) }),
            ("convTranspose2d", { try convTranspose2d(x, Tensor(zeros: [4, 2, 3, 3]), outputPadding: 2) }),
            ("convTranspose2d", { try convTranspose2d(x, Tensor(zeros: [4, 2, 1, 1]), stride: 1, padding: 3) }),
            ("convTranspose2d", { try convTranspose2d(x3, Tensor(zeros: [4, 2, 3, 3])) }),
            ("upfirdn2d", { try upfirdn2d(x, kernel: [1, 2, 3], k: 2) }),                       // wrong kernel count
            ("upfirdn2d", { try upfirdn2d(x, kernel: [Float](repeating: 1, count: 49), k: 7) }),  // kernel > input
            ("upfirdn2d", { try upfirdn2d(x, kernel: [1], k: 1, up: 0) }),
            ("upfirdn2d", { try upfirdn2d(x3, kernel: [1], k: 1) }),
            ("maxPool2d", { try maxPool2d(x, kernel: 3, stride: 2, padding: 2) }),              // pad > kernel/2
            ("maxPool2d", { try maxPool2d(x, kernel: 7) }),                                     // kernel > input
            ("maxPool2d", { try maxPool2d(x3, kernel: 2) }),
            ("avgPool2d", { try avgPool2d(x, kernel: 2, stride: 0) }),
            ("avgPool2d", { try avgPool2d(x3, kernel: 2) }),
            ("adaptiveAvgPool2d", { try adaptiveAvgPool2d(x, outputSize: (0, 2)) }),
            ("adaptiveAvgPool2d", { try adaptiveAvgPool2d(x3, outputSize: (2, 2)) }),
            ("resizeBilinear", { try resizeBilinear(x, height: 0, width: 3, alignCorners: true) }),
            ("resizeBilinear", { try resizeBilinear(x3, height: 2, width: 3, alignCorners: false) }),
            ("upsampleNearest", { try upsampleNearest(x, scale: 0) }),
            ("upsampleNearest", { try upsampleNearest(x3, scale: 2) }),
        ]
        for (i, (op, f)) in cases.enumerated() {
            XCTAssertThrowsError(try f(), "case \(i) (\(op)) did not throw") { e in
                XCTAssertTrue(e is TensorError, "case \(i): \(e)")
                XCTAssertTrue("\(e)".hasPrefix(op + ":"), "case \(i): error does not name \(op): \(e)")
            }
        }
    }
}
