import Foundation
import IFERTrain

// The PyTorch peer's small "ASIT-like" training step (/work/shared/peers/peer_bench.py, classes
// MHA, Block, StyleHead, Encoder, ModConv, Generator, Discriminator, ASIT), rebuilt from our
// layers and tensor ops so `ifer bench step --model peer` times exactly the peer's work:
//
//   image [B, 3, 32, 32] -> Encoder (patch embed, 4 pre-LN blocks, LayerNorm, StyleHead)
//   -> styles [B, 8, 64] -> frozen Generator (4 -> 32 px, modulated convs) -> x̂ [B, 3, 32, 32]
//   loss = MSE(x̂, x) + mean(1 − cos(D(x̂), D(x))), D a frozen small CNN, D(x) without gradients.
//
// Only the encoder trains (Adam, lr 1e-4); gradients flow through G and D(x̂) into it. Module
// keys are the peer's state_dict keys (`enc.blocks.0.attn.qkv.weight`, `gen.convs.3.affine.bias`).
// Initialisation follows the peer's (torch defaults; randn for the modulated-conv weights and the
// constant, randn·0.02 for the position embedding and the style queries, affine bias 1).

/// The peer's sizes (peer_bench.py, top of the file).
public enum PeerArch {
    public static let dim = 128, heads = 4, mlpRatio = 4, depth = 4, patch = 4, image = 32
    public static let styles = 8, styleDim = 64, generatorChannels = 64, resolutions = [4, 8, 16, 32]
    public static let batch = 8
    static let lreluGain = Float(2).squareRoot()
}

/// leaky_relu(x, 0.2) · √2.
func peerLRelu(_ x: Tensor) -> Tensor { leakyRelu(x, slope: 0.2, gain: PeerArch.lreluGain) }

/// Splits [B, T, parts·h·hd] into `parts` tensors [B·h, T, hd] (the heads of q, k, v).
func peerHeads(_ x: Tensor, parts: Int, heads h: Int) throws -> [Tensor] {
    let b = x.dim(0), t = x.dim(1), hd = x.dim(2) / (parts * h)
    let p = try permute(try reshape(x, [b, t, parts, h, hd]), [2, 0, 3, 1, 4])             // [parts, B, h, T, hd]
    return try split(p, sizes: [Int](repeating: 1, count: parts), axis: 0).map { try reshape($0, [b * h, t, hd]) }
}

/// [B·h, T, hd] attention output back to [B, T, h·hd].
func peerMergeHeads(_ o: Tensor, batch b: Int, heads h: Int) throws -> Tensor {
    let t = o.dim(1), hd = o.dim(2)
    return try reshape(try permute(try reshape(o, [b, h, t, hd]), [0, 2, 1, 3]), [b, t, h * hd])
}

/// softmax(q kᵀ / √hd) v.  q [N, S, hd], k, v [N, T, hd] -> [N, S, hd]
func peerAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws -> Tensor {
    let hd = q.dim(2)
    let a = scale(try matmul(q, k, transposeB: true), 1 / Float(hd).squareRoot())         // [N, S, T]
    return try matmul(try softmax(a, axis: -1), v)                                         // [N, S, hd]
}

/// MHA: fused qkv Linear(d, 3d), softmax(q kᵀ/√hd) v per head, Linear(d, d).
public final class PeerMHA: Layer {
    public let heads: Int
    public let qkv: Linear, proj: Linear
    public init(dim: Int = PeerArch.dim, heads: Int = PeerArch.heads) {
        self.heads = heads
        qkv = Linear(dim, 3 * dim)
        proj = Linear(dim, dim)
    }
    public var children: [(String, Module)] { [("qkv", qkv), ("proj", proj)] }

    /// x [B, T, C] -> [B, T, C]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let qkvHeads = try peerHeads(try qkv(x), parts: 3, heads: heads)                   // 3 x [B·h, T, hd]
        let o = try peerAttention(qkvHeads[0], qkvHeads[1], qkvHeads[2])                    // [B·h, T, hd]
        return try proj(try peerMergeHeads(o, batch: x.dim(0), heads: heads))              // [B, T, C]
    }
}

/// Pre-LN transformer block: x += attn(LN(x)); x += fc2(GELU(fc1(LN(x)))).
public final class PeerBlock: Layer {
    public let ln1: LayerNorm, attn: PeerMHA, ln2: LayerNorm, fc1: Linear, fc2: Linear
    public init(dim: Int = PeerArch.dim) {
        ln1 = LayerNorm(dim)
        attn = PeerMHA(dim: dim)
        ln2 = LayerNorm(dim)
        fc1 = Linear(dim, PeerArch.mlpRatio * dim)
        fc2 = Linear(PeerArch.mlpRatio * dim, dim)
    }
    public var children: [(String, Module)] { [("ln1", ln1), ("attn", attn), ("ln2", ln2), ("fc1", fc1), ("fc2", fc2)] }

    /// x [B, T, C] -> [B, T, C]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let x1 = try add(x, try attn(try ln1(x)))
        return try add(x1, try fc2(try gelu(try fc1(try ln2(x1)))))
    }
}

/// 8 learned query tokens cross-attend (4 heads) to the encoder tokens, residual, Linear(128 → 64):
///   q = Wq(queries), [k, v] = Wkv(tokens), s = queries + Wo(attn), styles = Wout(s).
public final class PeerStyleHead: Layer {
    public let heads: Int
    public let queries: Tensor
    public let q: Linear, kv: Linear, proj: Linear, out: Linear
    public init(dim: Int = PeerArch.dim, heads: Int = PeerArch.heads, styles: Int = PeerArch.styles,
                styleDim: Int = PeerArch.styleDim) {
        self.heads = heads
        queries = parameter([1, styles, dim])
        q = Linear(dim, dim)
        kv = Linear(dim, 2 * dim)
        proj = Linear(dim, dim)
        out = Linear(dim, styleDim)
    }
    public var parameters: [(String, Tensor)] { [("queries", queries)] }
    public var children: [(String, Module)] { [("q", q), ("kv", kv), ("proj", proj), ("out", out)] }
    public func resetParameters(_ rng: inout Philox) { queries.fillNormal(&rng, std: 0.02) }

    /// tokens [B, T, C] -> styles [B, S, style_dim]
    public func callAsFunction(_ tok: Tensor) throws -> Tensor {
        let b = tok.dim(0), s = queries.dim(1), c = queries.dim(2), hd = c / heads
        let qh = try permute(try reshape(try q(queries), [s, heads, hd]), [1, 0, 2])        // [h, S, hd]
        let qb = try reshape(try expand(try reshape(qh, [1, heads, s, hd]), to: [b, heads, s, hd]),
                             [b * heads, s, hd])                                            // [B·h, S, hd] (shared over B)
        let kvHeads = try peerHeads(try kv(tok), parts: 2, heads: heads)                    // 2 x [B·h, T, hd]
        let o = try peerAttention(qb, kvHeads[0], kvHeads[1])                               // [B·h, S, hd]
        let r = try add(queries, try proj(try peerMergeHeads(o, batch: b, heads: heads)))   // [1, S, C] + [B, S, C]
        return try out(r)                                                                   // [B, S, style_dim]
    }
}

/// Conv2d(3, 128, k=4, s=4) patch embed + learned position (1, 64, 128) -> 4 blocks -> LayerNorm
/// -> StyleHead -> (B, 8, 64).
public final class PeerEncoder: Layer {
    public let patch: Conv2d
    public let pos: Tensor
    public let blocks: ModuleList
    public let lnF: LayerNorm
    public let head: PeerStyleHead
    let blockList: [PeerBlock]

    public init() {
        let tokens = (PeerArch.image / PeerArch.patch) * (PeerArch.image / PeerArch.patch)
        patch = Conv2d(3, PeerArch.dim, kernel: PeerArch.patch, stride: PeerArch.patch)
        pos = parameter([1, tokens, PeerArch.dim])
        blockList = (0..<PeerArch.depth).map { _ in PeerBlock() }
        blocks = ModuleList(blockList)
        lnF = LayerNorm(PeerArch.dim)
        head = PeerStyleHead()
    }
    public var parameters: [(String, Tensor)] { [("pos", pos)] }
    public var children: [(String, Module)] { [("patch", patch), ("blocks", blocks), ("ln_f", lnF), ("head", head)] }
    public func resetParameters(_ rng: inout Philox) { pos.fillNormal(&rng, std: 0.02) }

    /// image [B, 3, 32, 32] -> styles [B, 8, 64]
    public func callAsFunction(_ img: Tensor) throws -> Tensor {
        let p = try patch(img)                                                              // [B, C, 8, 8]
        let b = p.dim(0), c = p.dim(1), t = p.dim(2) * p.dim(3)
        var x = try add(try permute(try reshape(p, [b, c, t]), [0, 2, 1]), pos)             // [B, 64, C]
        for blk in blockList { x = try blk(x) }
        return try head(try lnF(x))
    }
}

/// How the modulated conv runs (peer_bench.py ModConv `mode`); both compute the same function.
public enum PeerModConvMode: String, CaseIterable, Sendable {
    /// x·s -> one shared-weight conv -> ·demod (the peer's faster variant, asit_step_b8_scalemodconv).
    case scale
    /// Per-sample weights W·s·demod as one grouped conv with B groups (the peer's asit_step_b8).
    case grouped
}

/// StyleGAN2 modulated conv (peer form): s = affine(w) (Linear(64 → cin), bias init 1);
/// W_b = weight · s_b / √(cin·k²); demod W_b ·= rsqrt(Σ_{in,kh,kw} W_b² + 1e-8); y = conv(x, W_b) + bias.
///   weight [cout, cin, k, k] (N(0, 1)), bias [cout] (0)
public final class PeerModConv: Module {
    public let cin: Int, cout: Int, k: Int, demodulate: Bool
    public var mode: PeerModConvMode
    public let affine: Linear
    public let weight: Tensor, bias: Tensor
    public var scaleFactor: Float { 1 / Float(cin * k * k).squareRoot() }

    public init(_ cin: Int, _ cout: Int, kernel: Int, demodulate: Bool = true, mode: PeerModConvMode = .scale) {
        self.cin = cin; self.cout = cout; self.k = kernel; self.demodulate = demodulate; self.mode = mode
        affine = Linear(PeerArch.styleDim, cin)
        weight = parameter([cout, cin, kernel, kernel])
        bias = parameter([cout])
    }
    public var parameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public var children: [(String, Module)] { [("affine", affine)] }
    public func resetParameters(_ rng: inout Philox) {
        weight.fillNormal(&rng)
        bias.fill(0)
    }
    /// The affine's bias starts at 1 (nn.init.ones_), after the Linear's own default reset.
    func resetAffineBias() { affine.bias?.fill(1) }

    /// x [B, cin, H, W], w [B, style_dim] -> [B, cout, H, W]
    public func callAsFunction(_ x: Tensor, _ w: Tensor) throws -> Tensor {
        let b = x.dim(0), h = x.dim(2), wd = x.dim(3)
        let s = scale(try affine(w), scaleFactor)                                           // [B, cin], s/√(cin·k²)
        var y: Tensor
        switch mode {
        case .scale:
            y = try conv2d(try mul(x, try reshape(s, [b, cin, 1, 1])), weight, padding: k / 2)  // [B, cout, H, W]
            if demodulate {
                // Σ_{in,kh,kw} W² s² = (s²) · (Σ_{kh,kw} W²)ᵀ
                let wsq = try sum(square(weight), axes: [2, 3])                            // [cout, cin]
                let d = rsqrt(addScalar(try matmul(square(s), wsq, transposeB: true), 1e-8))  // [B, cout]
                y = try mul(y, try reshape(d, [b, cout, 1, 1]))
            }
        case .grouped:
            var wb = try mul(try reshape(weight, [1, cout, cin, k, k]), try reshape(s, [b, 1, cin, 1, 1]))  // [B, cout, cin, k, k]
            if demodulate {
                let d = rsqrt(addScalar(try sum(square(wb), axes: [2, 3, 4]), 1e-8))        // [B, cout]
                wb = try mul(wb, try reshape(d, [b, cout, 1, 1, 1]))
            }
            y = try conv2d(try reshape(x, [1, b * cin, h, wd]), try reshape(wb, [b * cout, cin, k, k]),
                           padding: k / 2, groups: b)                                       // [1, B·cout, H, W]
            y = try reshape(y, [b, cout, h, wd])
        }
        return try add(y, try reshape(bias, [1, cout, 1, 1]))
    }
}

/// const (1, 64, 4, 4); for r in 4, 8, 16, 32: [nearest 2x if r > 4], x = lrelu(modconv3x3(x, w[2i])),
/// x = lrelu(modconv3x3(x, w[2i+1])), y = toRGB(x, w[2i+1]) (1x1 modconv 64 → 3, no demod),
/// rgb = y if r == 4 else nearest2x(rgb) + y.  Output (B, 3, 32, 32).
public final class PeerGenerator: Module {
    public let const: Tensor
    public let convs: ModuleList, torgb: ModuleList
    let convList: [PeerModConv], rgbList: [PeerModConv]

    public init(mode: PeerModConvMode = .scale) {
        let c = PeerArch.generatorChannels
        const = parameter([1, c, 4, 4])
        convList = PeerArch.resolutions.flatMap { _ in [PeerModConv(c, c, kernel: 3, mode: mode), PeerModConv(c, c, kernel: 3, mode: mode)] }
        rgbList = PeerArch.resolutions.map { _ in PeerModConv(c, 3, kernel: 1, demodulate: false, mode: mode) }
        convs = ModuleList(convList)
        torgb = ModuleList(rgbList)
    }
    public var parameters: [(String, Tensor)] { [("const", const)] }
    public var children: [(String, Module)] { [("convs", convs), ("torgb", torgb)] }
    public func resetParameters(_ rng: inout Philox) { const.fillNormal(&rng) }

    public var mode: PeerModConvMode {
        get { convList[0].mode }
        set { for m in convList + rgbList { m.mode = newValue } }
    }
    var modConvs: [PeerModConv] { convList + rgbList }

    /// ws [B, 8, 64] -> rgb [B, 3, 32, 32]
    public func callAsFunction(_ ws: Tensor) throws -> Tensor {
        let b = ws.dim(0)
        let w = try split(ws, sizes: [Int](repeating: 1, count: ws.dim(1)), axis: 1).map { try reshape($0, [b, ws.dim(2)]) }  // 8 x [B, 64]
        var x = try expand(const, to: [b] + Array(const.shape.dropFirst()))                 // [B, 64, 4, 4]
        var rgb: Tensor?
        for i in PeerArch.resolutions.indices {
            if i > 0 { x = try upsampleNearest(x, scale: 2) }
            x = peerLRelu(try convList[2 * i](x, w[2 * i]))
            x = peerLRelu(try convList[2 * i + 1](x, w[2 * i + 1]))
            let y = try rgbList[i](x, w[2 * i + 1])                                         // [B, 3, r, r]
            rgb = try rgb.map { try add(try upsampleNearest($0, scale: 2), y) } ?? y
        }
        guard let out = rgb else { throw TensorError.badArgument(op: "PeerGenerator", detail: "no resolutions") }
        return out
    }
}

/// conv3x3(3 → 32, s1), conv3x3(32 → 64, s2), conv3x3(64 → 128, s2), conv3x3(128 → 128, s2), each
/// followed by lrelu (pad 1), flatten 2048, Linear(2048 → 256) = features.
public final class PeerDiscriminator: Layer {
    public let c1: Conv2d, c2: Conv2d, c3: Conv2d, c4: Conv2d, fc: Linear
    public init() {
        c1 = Conv2d(3, 32, kernel: 3, stride: 1, padding: 1)
        c2 = Conv2d(32, 64, kernel: 3, stride: 2, padding: 1)
        c3 = Conv2d(64, 128, kernel: 3, stride: 2, padding: 1)
        c4 = Conv2d(128, 128, kernel: 3, stride: 2, padding: 1)
        fc = Linear(128 * 4 * 4, 256)
    }
    public var children: [(String, Module)] { [("c1", c1), ("c2", c2), ("c3", c3), ("c4", c4), ("fc", fc)] }

    /// x [B, 3, 32, 32] -> features [B, 256]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        for c in [c1, c2, c3, c4] { h = peerLRelu(try c(h)) }                              // [B, 128, 4, 4]
        return try fc(try reshape(h, [h.dim(0), h.count / h.dim(0)]))                       // [B, 256]
    }
}

/// Encoder (trained) -> frozen Generator -> loss = MSE(x̂, x) + (1 − cos(D(x̂), D(x))).mean().
public final class PeerASIT: Module {
    public let enc: PeerEncoder
    public let gen: PeerGenerator
    public let disc: PeerDiscriminator

    /// Parameter counts printed by `python3 peer_bench.py arch` (torch 2.13.0+cpu).
    public static let peerCounts: [String: Int] = [
        "encoder_params": 883_136, "encoder_block_params_each": 198_272, "encoder_head_params": 75_328,
        "encoder_patch_pos": 14_464, "generator_params": 347_148, "generator_modconv3x3_each": 41_088,
        "generator_torgb_each": 4_355, "discriminator_params": 765_376, "total_params": 1_995_660,
        "trainable_params": 883_136,
    ]

    public init(mode: PeerModConvMode = .scale, seed: UInt64 = 0) {
        enc = PeerEncoder()
        gen = PeerGenerator(mode: mode)
        disc = PeerDiscriminator()
        resetAll(seed: seed)
        for m in gen.modConvs { m.resetAffineBias() }
        for (_, p) in gen.namedParameters() + disc.namedParameters() { p.requiresGrad = false }
        for (k, p) in namedParameters() { p.name = k }
    }
    public var children: [(String, Module)] { [("enc", enc), ("gen", gen), ("disc", disc)] }

    /// This model's counts under the peer's `arch` keys.
    public var counts: [String: Int] {
        func n(_ m: Module) -> Int { m.parameterCount }
        let trainable = namedParameters().filter { $0.tensor.requiresGrad }.reduce(0) { $0 + $1.tensor.count }
        return ["encoder_params": n(enc), "encoder_block_params_each": n(enc.blockList[0]), "encoder_head_params": n(enc.head),
                "encoder_patch_pos": n(enc.patch) + enc.pos.count, "generator_params": n(gen),
                "generator_modconv3x3_each": n(gen.convList[0]), "generator_torgb_each": n(gen.rgbList[0]),
                "discriminator_params": n(disc), "total_params": n(self), "trainable_params": trainable]
    }

    /// Throws naming the first count that differs from the peer's.
    public func checkCounts() throws {
        let ours = counts
        for key in PeerASIT.peerCounts.keys.sorted() where ours[key] != PeerASIT.peerCounts[key] {
            throw TensorError.badArgument(op: "PeerASIT", detail: "\(key) is \(ours[key] ?? -1), the peer's arch prints \(PeerASIT.peerCounts[key] ?? -1)")
        }
    }

    /// x [B, 3, 32, 32] in [-1, 1] -> scalar loss
    public func loss(_ x: Tensor) throws -> Tensor {
        let xh = try gen(try enc(x))                                                        // [B, 3, 32, 32]
        let fr = try Autograd.noGrad { try disc(x) }                                        // [B, 256]
        let ff = try disc(xh)                                                               // [B, 256]
        let cos = try cosineSimilarity(ff, fr, axis: 1)                                     // [B]
        return try add(try mseLoss(xh, x), addScalar(neg(meanAll(cos)), 1))
    }
}
