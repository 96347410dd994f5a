import IFERLayers

/// Transformer MLP: Linear(C, r·C) → GELU → Linear(r·C, C). Keys fc1, fc2.
public final class Mlp: Layer {
    public let fc1: Linear, fc2: Linear

    public init(_ dim: Int, hidden: Int) {
        fc1 = Linear(dim, hidden, init: .truncatedNormal(std: 0.02))
        fc2 = Linear(hidden, dim, init: .truncatedNormal(std: 0.02))
    }

    public var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }

    /// x [..., C] -> [..., C]
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try fc2(try gelu(try fc1(x))) }
}

/// Splits a channels-last map into w×w windows of tokens: [B, H, W, C] -> [B·nW, w², C].
func windowTokens(_ x: Tensor, window w: Int) throws -> Tensor {
    try reshape(try windowPartition(x, window: w), [-1, w * w, x.dim(3)])
}

/// Inverse of `windowTokens`: [B·nW, w², C] -> [B, H, W, C].
func windowMap(_ t: Tensor, window w: Int, height: Int, width: Int) throws -> Tensor {
    try windowReverse(try reshape(t, [-1, w, w, t.dim(2)]), window: w, height: height, width: width)
}

/// One GC ViT block (pre-norm, layer scale, drop path), channels-last:
///   x ← x + DropPath(γ1 ⊙ Attn(LN1(x)))      (local or global-query window attention)
///   x ← x + DropPath(γ2 ⊙ MLP(LN2(x)))
/// Keys: gamma1, gamma2, norm1, attn, norm2, mlp.
public final class GCViTBlock: Module {
    public let gamma1: Tensor, gamma2: Tensor
    public let norm1: LayerNorm
    public let attn: WindowAttention
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let window: Int
    public let dropPathRate: Float
    public let layerScale: Float

    public init(dim: Int, heads: Int, window: Int, mlpRatio: Float, qkvBias: Bool, dropPath: Float,
                layerScale: Float, global: Bool) {
        gamma1 = parameter([dim])
        gamma2 = parameter([dim])
        norm1 = LayerNorm(dim)
        attn = WindowAttention(dim: dim, heads: heads, window: window, qkvBias: qkvBias, global: global)
        norm2 = LayerNorm(dim)
        mlp = Mlp(dim, hidden: Int(Float(dim) * mlpRatio))
        self.window = window
        self.dropPathRate = dropPath
        self.layerScale = layerScale
    }

    public var parameters: [(String, Tensor)] { [("gamma1", gamma1), ("gamma2", gamma2)] }
    public var children: [(String, Module)] { [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)] }
    public func resetParameters(_ rng: inout Philox) {
        gamma1.fill(layerScale)
        gamma2.fill(layerScale)
    }

    /// Activation checkpointing (`model.activation_checkpointing: encoder_blocks`): keep only the
    /// block's input on the tape and recompute the block during backward (`Autograd.checkpoint`).
    public var checkpointed = false

    /// x [B, H, W, C] -> [B, H, W, C]. qGlobal: the level's tiled query (global blocks only).
    /// `rngs` holds one generator per batch row for drop path; empty means evaluation (no drop).
    public func callAsFunction(_ x: Tensor, qGlobal: Tensor?, rngs: inout [Philox]) throws -> Tensor {
        guard checkpointed else { return try forward(x, qGlobal: qGlobal, rngs: &rngs) }
        let inputs = qGlobal.map { [x, $0] } ?? [x]
        let params = namedParameters().map(\.tensor)
        let ys = try Autograd.checkpoint("GCViTBlock", inputs: inputs, parameters: params, rngs: &rngs) { t, r in
            [try self.forward(t[0], qGlobal: t.count > 1 ? t[1] : nil, rngs: &r)]
        }
        return ys[0]
    }

    /// The block itself (what `callAsFunction` runs, or checkpoints).
    func forward(_ x: Tensor, qGlobal: Tensor?, rngs: inout [Philox]) throws -> Tensor {
        let h = x.dim(1), w = x.dim(2)
        let tokens = try windowTokens(try norm1(x), window: window)                 // [B·nW, w², C]
        let a = try windowMap(try attn(tokens, qGlobal: qGlobal), window: window, height: h, width: w)
        var y = try add(x, try dropPathIfTraining(try mul(a, gamma1), &rngs))        // [B, H, W, C]
        let m = try mul(try mlp(try norm2(y)), gamma2)
        y = try add(y, try dropPathIfTraining(m, &rngs))
        return y
    }

    func dropPathIfTraining(_ x: Tensor, _ rngs: inout [Philox]) throws -> Tensor {
        guard !rngs.isEmpty, dropPathRate > 0 else { return x }
        return try dropPath(x, p: dropPathRate, rngs: &rngs)
    }
}
