import Foundation
import IFERTrain

/// `ifer bench ops`: the tensor core against raw OpenBLAS and the PyTorch peer
/// (/shared/peers/peer_bench.py). Case names and FLOP counts are the peer's, so GFLOP/s compare
/// directly: sgemm 2n³; convs 3 × forward conv FLOPs (forward, input grad, weight grad);
/// modconv adds the style affine; the transformer block counts its matmuls and attention products.
public enum OpsBench {
    public static let caseNames = [
        "blas_sgemm_1024", "sgemm_512", "sgemm_1024", "conv3x3_b8_64c_32x32_fwdbwd",
        "conv3x3_b8_64c_64x64_fwdbwd", "modconv_b8_64c_32x32_fwdbwd", "transformer_block_b8_t64_d128_fwdbwd",
        "conv3x3s2_b8_64c_64x64_fwdbwd", "elementwise_b8_64c_64x64_fwdbwd",
    ]

    /// Runs the selected cases at each thread count, printing one JSON line per (case, threads);
    /// `speedup_vs_1` is the 1-thread median over this one, when 1 is among the thread counts
    /// (measured first, in the same run).
    public static func run(threads: [Int], cases: [String], minTime: Double) throws {
        var oneThread: [String: Double] = [:]
        for th in threads.contains(1) ? [1] + threads.filter { $0 != 1 } : threads {
            Threads.setBLAS(th)
            for name in cases {
                let (body, flops) = try make(name)
                let t = try Timing.measure(minTime: minTime, body)
                if th == 1 { oneThread[name] = t.medianMs }
                var line: [(String, Any)] = [("case", name), ("threads", th), ("ms", t.medianMs), ("ms_min", t.minMs),
                                             ("gflops", flops / (t.medianMs * 1e-3) / 1e9), ("flops", Int(flops)), ("reps", t.reps)]
                if let one = oneThread[name] { line.append(("speedup_vs_1", one / t.medianMs)) }
                emitJSON(line)
            }
        }
    }

    static func make(_ name: String) throws -> (() throws -> Void, Double) {
        var rng = Philox(seed: 0)
        switch name {
        case "blas_sgemm_1024":
            let n = 1024
            let a = Tensor.randn([n, n], &rng), b = Tensor.randn([n, n], &rng), c = Tensor(zeros: [n, n])
            // Raw OpenBLAS with its own thread team at this thread count (the tensor core keeps
            // OpenBLAS at one thread and cuts the product itself: sgemm_1024 below).
            return ({
                Threads.withOpenBLASThreads(Threads.blas) {
                    sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.ptr, lda: n, b: b.ptr, ldb: n, beta: 0, c: c.ptr, ldc: n, split: false)
                }
            }, 2 * pow(Double(n), 3))
        case "sgemm_512", "sgemm_1024":
            let n = name == "sgemm_512" ? 512 : 1024
            let a = Tensor.randn([n, n], &rng), b = Tensor.randn([n, n], &rng)
            return ({ _ = try matmul(a, b) }, 2 * pow(Double(n), 3))
        case "conv3x3_b8_64c_32x32_fwdbwd", "conv3x3_b8_64c_64x64_fwdbwd":
            let hw = name.contains("32x32") ? 32 : 64
            let x = Tensor.randn([8, 64, hw, hw], &rng); x.requiresGrad = true
            let w = Tensor.randn([64, 64, 3, 3], &rng, std: 0.05); w.requiresGrad = true
            let b = Tensor(zeros: [64]); b.requiresGrad = true
            let flops = 3.0 * 2 * 8 * 64 * Double(hw * hw) * 64 * 9
            return ({
                for t in [x, w, b] { t.grad = nil }
                let y = try conv2d(x, w, bias: b, stride: 1, padding: 1)
                try y.backward(gradient: ones(y.shape))
            }, flops)
        case "conv3x3s2_b8_64c_64x64_fwdbwd":
            // Stride 2: the im2col / col2im path (Winograd is for stride 1).
            let x = Tensor.randn([8, 64, 64, 64], &rng); x.requiresGrad = true
            let w = Tensor.randn([64, 64, 3, 3], &rng, std: 0.05); w.requiresGrad = true
            let flops = 3.0 * 2 * 8 * 64 * Double(32 * 32) * 64 * 9
            return ({
                for t in [x, w] { t.grad = nil }
                let y = try conv2d(x, w, stride: 2, padding: 1)
                try y.backward(gradient: ones(y.shape))
            }, flops)
        case "elementwise_b8_64c_64x64_fwdbwd":
            // gelu(x * scale + shift) with per-channel scale and shift, forward and backward: the
            // elementwise maps and broadcast reductions between the convs of a real step.
            // "flops" counts element operations (3 forward, 5 backward per element), not FLOPs.
            let x = Tensor.randn([8, 64, 64, 64], &rng); x.requiresGrad = true
            let scale = Tensor.randn([1, 64, 1, 1], &rng); scale.requiresGrad = true
            let shift = Tensor.randn([1, 64, 1, 1], &rng); shift.requiresGrad = true
            return ({
                for t in [x, scale, shift] { t.grad = nil }
                let y = gelu(try add(try mul(x, scale), shift))
                try y.backward(gradient: ones(y.shape))
            }, 8.0 * Double(x.count))
        case "modconv_b8_64c_32x32_fwdbwd":
            let m = try BenchModConv(&rng)
            let x = Tensor.randn([8, 64, 32, 32], &rng); x.requiresGrad = true
            let style = Tensor.randn([8, 64], &rng); style.requiresGrad = true
            return ({
                for t in [x, style] + m.params { t.grad = nil }
                let y = try m(x, style)
                try y.backward(gradient: ones(y.shape))
            }, 1_812_135_936)
        case "transformer_block_b8_t64_d128_fwdbwd":
            let blk = BenchBlock(&rng)
            let x = Tensor.randn([8, 64, 128], &rng); x.requiresGrad = true
            return ({
                for t in [x] + blk.params { t.grad = nil }
                let y = try blk(x)
                try y.backward(gradient: ones(y.shape))
            }, 654_311_424)
        default:
            throw TensorError.badArgument(op: "bench ops", detail: "unknown case '\(name)'; cases: \(caseNames.joined(separator: ", "))")
        }
    }

    nonisolated(unsafe) static var onesCache: [[Int]: Tensor] = [:]
    static func ones(_ shape: [Int]) -> Tensor {
        if let t = onesCache[shape] { return t }
        let t = Tensor(filled: 1, shape: shape)
        onesCache[shape] = t
        return t
    }
}

/// The peer's StyleGAN2 modulated conv ('scale' form): s = affine(w) · 1/sqrt(cin·k²);
/// y = conv(x · s) · rsqrt(Σ_in,kh,kw W² s² + 1e-8) + bias.
final class BenchModConv {
    let affineW: Tensor, affineB: Tensor, weight: Tensor, bias: Tensor, wSquared: Tensor
    var params: [Tensor] { [affineW, affineB, weight, bias] }
    let scale = 1 / Float(64 * 9).squareRoot()

    init(_ rng: inout Philox) throws {
        affineW = Tensor.randn([64, 64], &rng, std: 0.125)
        affineB = Tensor(filled: 1, shape: [64])
        weight = Tensor.randn([64, 64, 3, 3], &rng)
        bias = Tensor(zeros: [64])
        wSquared = Tensor(zeros: [64, 64])
        for t in params { t.requiresGrad = true }
    }

    func callAsFunction(_ x: Tensor, _ w: Tensor) throws -> Tensor {
        let s = try scaleT(add(matmul(w, affineW, transposeB: true), affineB))       // [B, cin]
        let xs = try mul(x, reshape(s, [8, 64, 1, 1]))                                 // [B, cin, H, W]
        var y = try conv2d(xs, weight, bias: nil, stride: 1, padding: 1)               // [B, cout, H, W]
        let w2 = try sum(square(weight), axes: [2, 3])                                  // [cout, cin]
        let d = try rsqrt(addScalar(matmul(square(s), w2, transposeB: true), 1e-8))    // [B, cout]
        y = try mul(y, reshape(d, [8, 64, 1, 1]))
        return try add(y, reshape(bias, [1, 64, 1, 1]))
    }

    func scaleT(_ t: Tensor) throws -> Tensor { try IFERTensor.scale(t, scale) }
}

/// The peer's pre-LN transformer block: x += proj(attn(LN(x))); x += fc2(GELU(fc1(LN(x)))).
final class BenchBlock {
    let ln1w: Tensor, ln1b: Tensor, qkvW: Tensor, qkvB: Tensor, projW: Tensor, projB: Tensor
    let ln2w: Tensor, ln2b: Tensor, fc1W: Tensor, fc1B: Tensor, fc2W: Tensor, fc2B: Tensor
    var params: [Tensor] { [ln1w, ln1b, qkvW, qkvB, projW, projB, ln2w, ln2b, fc1W, fc1B, fc2W, fc2B] }

    init(_ rng: inout Philox) {
        let d = 128
        ln1w = Tensor(filled: 1, shape: [d]); ln1b = Tensor(zeros: [d])
        ln2w = Tensor(filled: 1, shape: [d]); ln2b = Tensor(zeros: [d])
        qkvW = Tensor.randn([3 * d, d], &rng, std: 0.05); qkvB = Tensor(zeros: [3 * d])
        projW = Tensor.randn([d, d], &rng, std: 0.05); projB = Tensor(zeros: [d])
        fc1W = Tensor.randn([4 * d, d], &rng, std: 0.05); fc1B = Tensor(zeros: [4 * d])
        fc2W = Tensor.randn([d, 4 * d], &rng, std: 0.05); fc2B = Tensor(zeros: [d])
        for t in params { t.requiresGrad = true }
    }

    func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor) throws -> Tensor {
        try add(matmul(x, w, transposeB: true), b)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let (bsz, t, c, h) = (x.dim(0), x.dim(1), x.dim(2), 4)
        let hd = c / h
        let qkv = try linear(layerNorm(x, weight: ln1w, bias: ln1b), qkvW, qkvB)             // [B, T, 3C]
        let heads = try permute(reshape(qkv, [bsz, t, 3, h, hd]), [2, 0, 3, 1, 4])            // [3, B, h, T, hd]
        let parts = try split(heads, sizes: [1, 1, 1], axis: 0)
        let q = try reshape(parts[0], [bsz * h, t, hd]), k = try reshape(parts[1], [bsz * h, t, hd])
        let v = try reshape(parts[2], [bsz * h, t, hd])
        let att = try softmax(scale(matmul(q, k, transposeB: true), 1 / Float(hd).squareRoot()), axis: -1)  // [Bh, T, T]
        let o = try permute(reshape(matmul(att, v), [bsz, h, t, hd]), [0, 2, 1, 3])            // [B, T, h, hd]
        let x1 = try add(x, linear(reshape(o, [bsz, t, c]), projW, projB))
        let m = try linear(gelu(linear(layerNorm(x1, weight: ln2w, bias: ln2b), fc1W, fc1B)), fc2W, fc2B)
        return try add(x1, m)
    }
}
