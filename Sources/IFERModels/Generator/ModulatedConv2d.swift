import IFERLayers

/// StyleGAN2's modulated convolution (rosinality `ModulatedConv2d`), computed the fast way.
///
/// The reference modulates the weight per sample, W'ᵦ = W·sᵦ/√(in·k²), demodulates each output
/// filter, and runs a grouped conv with one group per sample. Because modulation scales input
/// channels and demodulation scales output channels, the same result comes from one shared conv:
///   y = dᵦ ⊙ conv(x ⊙ sᵦ, W/√(in·k²)),  dᵦ,ₒ = 1/√(Σᵢ sᵦ,ᵢ²·Σₖ(W/√(in·k²))²ₒ,ᵢ,ₖ + 1e-8)
/// The up-sampling variant is a stride-2 transposed conv followed by a 4-tap blur.
///   weight [1, out, in, k, k] (N(0, 1)), modulation: EqualLinear(style_dim → in, bias init 1)
public final class ModulatedConv2d: Module {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, styleDim: Int
    public let demodulate: Bool, upsample: Bool
    public let weight: Tensor
    public let modulation: EqualLinear
    public let blur: FIRFilter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, styleDim: Int, demodulate: Bool = true,
                upsample: Bool = false, blurKernel: [Float] = [1, 3, 3, 1]) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernel
        self.styleDim = styleDim
        self.demodulate = demodulate
        self.upsample = upsample
        self.weight = parameter([1, outChannels, inChannels, kernel, kernel])
        self.modulation = EqualLinear(styleDim, inChannels, biasInit: 1)
        if upsample {
            // rosinality: p = (taps − 2) − (k − 1); pad = ((p + 1)/2 + 1, p/2 + 1) → (1, 1) for 4 taps, k = 3.
            let p = (blurKernel.count - 2) - (kernel - 1)
            blur = FIRFilter(taps: blurKernel, gain: 4, pad: ((p + 1) / 2 + 1, p / 2 + 1))
        } else {
            blur = nil
        }
    }

    public var parameters: [(String, Tensor)] { [("weight", weight)] }
    public var children: [(String, Module)] {
        var c: [(String, Module)] = [("modulation", modulation)]
        if let b = blur { c.insert(("blur", b), at: 0) }
        return c
    }

    public func resetParameters(_ rng: inout Philox) { weight.fillNormal(&rng) }

    public var scale: Float { 1 / Float(inChannels * kernelSize * kernelSize).squareRoot() }

    /// Output size for input size h.
    public func outputSize(_ h: Int) -> Int { upsample ? 2 * h : h }

    /// MACs for one image at input size h×w (the transposed conv counted at the input size,
    /// as PyTorch's flop counter does; the blur counted as a depthwise 4×4 conv).
    public func macs(height h: Int, width w: Int) -> Int {
        var m = h * w * outChannels * inChannels * kernelSize * kernelSize + modulation.inFeatures * modulation.outFeatures
        if let b = blur { m += 4 * h * w * outChannels * b.size * b.size }
        return m
    }

    /// x [B, in, H, W], style [B, style_dim] -> [B, out, H', W'] (H' = 2H when up-sampling)
    public func callAsFunction(_ x: Tensor, style: Tensor) throws -> Tensor {
        let op = "ModulatedConv2d(\(inChannels)→\(outChannels), k\(kernelSize))"
        guard x.rank == 4, x.dim(1) == inChannels else {
            throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "expected [B, \(inChannels), H, W]")
        }
        let b = x.dim(0)
        guard style.shape == [b, styleDim] else {
            throw TensorError.shapeMismatch(op: op, shapes: [x.shape, style.shape], detail: "style must be [\(b), \(styleDim)]")
        }
        let s = try modulation(style)                                                    // [B, in]
        let w = try reshape(try IFERTensor.scale(weight, scale),
                            [outChannels, inChannels, kernelSize, kernelSize])          // [out, in, k, k]
        let xs = try mul(x, try reshape(s, [b, inChannels, 1, 1]))                      // [B, in, H, W]
        var y: Tensor
        if upsample {
            let wt = try permute(w, [1, 0, 2, 3])                                        // [in, out, k, k]
            y = try convTranspose2d(xs, wt, bias: nil, stride: 2, padding: 0)            // [B, out, 2H+1, 2W+1]
        } else {
            y = try conv2d(xs, w, bias: nil, stride: 1, padding: kernelSize / 2)         // [B, out, H, W]
        }
        if demodulate {
            let wsq = try sum(try square(w), axes: [2, 3])                               // [out, in]
            let energy = try matmul(try square(s), wsq, transposeB: true)                // [B, out]
            let d = try rsqrt(try addScalar(energy, 1e-8))                               // [B, out]
            y = try mul(y, try reshape(d, [b, outChannels, 1, 1]))                       // [B, out, H', W']
        }
        if let blur { y = try blur(y) }                                                  // [B, out, 2H, 2W]
        return y
    }
}
