import Foundation
import IFERLayers

/// GC ViT's down-sampler (channels-last in and out):
///   x ← LN1(x); x ← x + body(x); x ← Conv3×3/2 (no bias, C → C_out); x ← LN2(x); x ← x + α·P
/// where α is a learnable scalar (initialised to 0) and P the fixed 2-D sinusoidal grid.
/// Keys: alpha, conv.{0,2.fc.0,2.fc.2,3}, reduction, norm2, norm1 (PyTorch's state_dict order).
/// The authors' `sin_pos_embed._float_tensor` buffer holds uninitialised memory used only for
/// its dtype; it is not kept here (the grid is recomputed from the shape, as in the original).
public final class ReduceSize: Layer {
    public let alpha: Tensor
    public let conv: Sequential
    public let reduction: Conv2d
    public let norm2: LayerNorm
    public let norm1: LayerNorm
    public let inDim: Int, outDim: Int
    /// The last grid built (a constant for a given map size, so built once, not every forward).
    var grid: Tensor?

    public init(_ dim: Int, keepDim: Bool) {
        inDim = dim
        outDim = keepDim ? dim : 2 * dim
        alpha = parameter([1])
        conv = mbConvBody(dim)
        reduction = Conv2d(dim, outDim, kernel: 3, stride: 2, padding: 1, bias: false)
        norm2 = LayerNorm(outDim)
        norm1 = LayerNorm(dim)
    }

    public var parameters: [(String, Tensor)] { [("alpha", alpha)] }
    public var children: [(String, Module)] {
        [("conv", conv), ("reduction", reduction), ("norm2", norm2), ("norm1", norm1)]
    }
    public func resetParameters(_ rng: inout Philox) { alpha.fill(0) }

    /// x [B, H, W, C] -> [B, H/2, W/2, C_out]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = try permute(try norm1(x), [0, 3, 1, 2])                     // [B, C, H, W]
        y = try add(y, try conv(y))                                         // [B, C, H, W]
        y = try permute(try reduction(y), [0, 2, 3, 1])                     // [B, H/2, W/2, C_out]
        y = try norm2(y)
        let p: Tensor
        if let g = grid, g.shape == [1, y.dim(1), y.dim(2), outDim] { p = g } else {
            p = try sinusoidalGrid(height: y.dim(1), width: y.dim(2), channels: outDim)  // [1, H/2, W/2, C_out]
            grid = p
        }
        return try add(y, try mul(p, alpha))                                // + α·P
    }
}

/// The 2-D sinusoidal grid (mmgen SPE2d, padding index 0) in channels-last layout [1, H, W, C]:
/// channels [0, C/2) encode the column x = 1…W, channels [C/2, C) the row y = 1…H; each half is
/// [sin(p·f_k), cos(p·f_k)] with f_k = exp(−k·ln(10000)/(C/4 − 1)), k = 0 … C/4 − 1.
public func sinusoidalGrid(height: Int, width: Int, channels: Int) throws -> Tensor {
    let half = channels / 4
    guard channels % 4 == 0, half >= 2 else {
        throw TensorError.badArgument(op: "sinusoidalGrid", detail: "channels must be a multiple of 4 and >= 8, got \(channels)")
    }
    let freq = (0..<half).map { Foundation.exp(-Double($0) * Foundation.log(10000.0) / Double(half - 1)) }
    func emb(_ p: Int, _ e: Int) -> Float {                                 // e in [0, C/2)
        e < half ? Float(Foundation.sin(Double(p) * freq[e])) : Float(Foundation.cos(Double(p) * freq[e - half]))
    }
    let out = Tensor(zeros: [1, height, width, channels])
    let c2 = channels / 2
    for y in 0..<height {
        for x in 0..<width {
            let row = out.ptr + (y * width + x) * channels
            for e in 0..<c2 {
                row[e] = emb(x + 1, e)
                row[c2 + e] = emb(y + 1, e)
            }
        }
    }
    return out
}

/// Stem: Conv3×3/2 (with bias) then a width-keeping ReduceSize: [B, 3, H, W] -> [B, H/4, W/4, dim].
public final class PatchEmbed: Layer {
    public let proj: Conv2d
    public let convDown: ReduceSize

    public init(inChannels: Int, dim: Int) {
        proj = Conv2d(inChannels, dim, kernel: 3, stride: 2, padding: 1)
        convDown = ReduceSize(dim, keepDim: true)
    }

    public var children: [(String, Module)] { [("proj", proj), ("conv_down", convDown)] }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try permute(try proj(x), [0, 2, 3, 1])                      // [B, H/2, W/2, dim]
        return try convDown(y)                                              // [B, H/4, W/4, dim]
    }
}
