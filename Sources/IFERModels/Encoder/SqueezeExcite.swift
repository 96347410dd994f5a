import IFERLayers

/// Squeeze-excitation: scales each channel by a gate computed from the global average.
///   SE(x) = x · σ(W2 · GELU(W1 · mean_hw(x)))     W1 [C/4, C], W2 [C, C/4], no biases
/// Keys `fc.0.weight`, `fc.2.weight` (fc = Linear, GELU, Linear, Sigmoid as in PyTorch).
public final class SqueezeExcite: Layer {
    public let fc: Sequential

    public init(_ channels: Int) {
        fc = Sequential([Linear(channels, channels / 4, bias: false, init: .truncatedNormal(std: 0.02)), GELU(),
                         Linear(channels / 4, channels, bias: false, init: .truncatedNormal(std: 0.02)), Sigmoid()])
    }

    public var children: [(String, Module)] { [("fc", fc)] }

    /// x [B, C, H, W] -> [B, C, H, W]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = try mean(x, axes: [2, 3])                              // [B, C]
        let gate = try fc(pooled)                                           // [B, C]
        return try mul(x, try reshape(gate, [x.dim(0), x.dim(1), 1, 1]))    // [B, C, H, W]
    }
}

/// The fused-MBConv body GC ViT uses in ReduceSize and FeatExtract (keys conv.0 … conv.3):
///   DWConv3×3 (no bias) → GELU → SE → Conv1×1 (no bias); the caller adds the residual.
func mbConvBody(_ channels: Int) -> Sequential {
    Sequential([Conv2d(channels, channels, kernel: 3, stride: 1, padding: 1, groups: channels, bias: false),
                GELU(), SqueezeExcite(channels),
                Conv2d(channels, channels, kernel: 1, bias: false)])
}

/// One step of the global-query generator: x + body(x), then MaxPool 3×3/2/1 unless `keep`.
public final class FeatExtract: Layer {
    public let conv: Sequential
    public let keep: Bool

    public init(_ channels: Int, keep: Bool) {
        conv = mbConvBody(channels)
        self.keep = keep
    }

    public var children: [(String, Module)] { [("conv", conv)] }

    /// x [B, C, H, W] -> [B, C, H, W] (keep) or [B, C, ⌈H/2⌉, ⌈W/2⌉]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try add(x, try conv(x))                                     // [B, C, H, W]
        return keep ? y : try maxPool2d(y, kernel: 3, stride: 2, padding: 1)
    }
}
