import IFERLayers

/// Window transformer of the style heads (NCHW in and out). Unlike a GC ViT block it has no
/// LayerNorm before the MLP, no layer scale and no drop path:
///   x ← x + Attn(LN1(x));  x ← x + MLP(x)
/// Keys: norm1, attn, mlp.
public final class StyleBlock: Layer {
    public let norm1: LayerNorm
    public let attn: WindowAttention
    public let mlp: Mlp
    public let window: Int

    public init(dim: Int, heads: Int, window: Int, mlpRatio: Float) {
        norm1 = LayerNorm(dim)
        attn = WindowAttention(dim: dim, heads: heads, window: window)
        mlp = Mlp(dim, hidden: Int(Float(dim) * mlpRatio))
        self.window = window
    }

    public var children: [(String, Module)] { [("norm1", norm1), ("attn", attn), ("mlp", mlp)] }

    /// x [B, C, H, W] -> [B, C, H, W]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = x.dim(2), w = x.dim(3)
        let t = try permute(x, [0, 2, 3, 1])                                        // [B, H, W, C]
        let a = try attn(try windowTokens(try norm1(t), window: window))            // [B·nW, w², C]
        var y = try add(t, try windowMap(a, window: window, height: h, width: w))   // [B, H, W, C]
        y = try add(y, try mlp(y))
        return try permute(y, [0, 3, 1, 2])                                         // [B, C, H, W]
    }
}

/// One W+ code from an S×S map (pSp's GradualStyleBlock with window transformers):
///   Conv3×3/2 → LeakyReLU(0.01); then while the map is > 1×1: StyleBlock + MaxPool 2×2 if the
///   map is at least the window, else Conv3×3/2 → LeakyReLU; flatten; EqualLinear(C, C).
/// Keys: blocks.{i} (activations and pools take indices too), linear.
public final class GradualStyleBlock: Layer {
    public let blocks: Sequential
    public let linear: EqualLinear
    public let width: Int

    public init(width c: Int, spatial: Int, window: Int, heads: Int, mlpRatio: Float) {
        width = c
        var layers: [Layer] = [Conv2d(c, c, kernel: 3, stride: 2, padding: 1), LeakyReLU(slope: 0.01)]
        var s = spatial / 2
        while s > 1 {
            if s >= window {
                layers += [StyleBlock(dim: c, heads: heads, window: window, mlpRatio: mlpRatio),
                           MaxPool2d(kernel: 2, stride: 2)]
            } else {
                layers += [Conv2d(c, c, kernel: 3, stride: 2, padding: 1), LeakyReLU(slope: 0.01)]
            }
            s /= 2
        }
        blocks = Sequential(layers)
        linear = EqualLinear(c, c)
    }

    public var children: [(String, Module)] { [("blocks", blocks), ("linear", linear)] }

    /// Activation checkpointing (`model.activation_checkpointing: encoder_blocks` / `all`): the
    /// head keeps nothing on the tape but its input (the pyramid map, which the other heads of
    /// its group share) and is recomputed during backward. No randomness inside.
    public var checkpointed = false

    /// x [B, C, S, S] -> [B, C]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard checkpointed else { return try forward(x) }
        return try recomputed("GradualStyleBlock(\(x.dim(2))x\(x.dim(3)))", x) { try self.forward($0) }
    }

    /// The head itself (what `callAsFunction` runs, or checkpoints).
    func forward(_ x: Tensor) throws -> Tensor {
        let y = try blocks(x)                                                       // [B, C, 1, 1]
        return try linear(try reshape(y, [x.dim(0), width]))
    }
}
