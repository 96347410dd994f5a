import IFERLayers

/// x + w·noise with a learned scalar w (init 0). noise is [B or 1, 1, H, W].
///   weight [1]
public final class NoiseInjection: Module {
    public let weight = parameter([1])
    public init() {}
    public var parameters: [(String, Tensor)] { [("weight", weight)] }
    public func resetParameters(_ rng: inout Philox) { weight.fill(0) }

    /// x [B, C, H, W], noise [B|1, 1, H, W] -> [B, C, H, W]
    public func callAsFunction(_ x: Tensor, noise: Tensor) throws -> Tensor {
        guard noise.rank == 4, noise.dim(1) == 1, noise.dim(2) == x.dim(2), noise.dim(3) == x.dim(3),
              noise.dim(0) == 1 || noise.dim(0) == x.dim(0) else {
            throw TensorError.shapeMismatch(op: "NoiseInjection", shapes: [x.shape, noise.shape], detail: "noise must be [B or 1, 1, H, W]")
        }
        return try add(x, try mul(noise, weight))
    }
}

/// √2·leaky_relu(x + b, 0.2) with a per-channel bias (rosinality `FusedLeakyReLU`).
///   bias [C]
public final class FusedLeakyReLU: Layer {
    public let channels: Int
    public let bias: Tensor
    public init(_ channels: Int) { self.channels = channels; bias = parameter([channels]) }
    public var parameters: [(String, Tensor)] { [("bias", bias)] }
    public func resetParameters(_ rng: inout Philox) { bias.fill(0) }

    /// x [B, C, ...] -> same shape
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 2, x.dim(1) == channels else {
            throw TensorError.shapeMismatch(op: "FusedLeakyReLU(\(channels))", shapes: [x.shape], detail: "axis 1 must be \(channels)")
        }
        return try biasLeakyRelu(x, bias: bias, slope: 0.2, gain: Float(2).squareRoot())
    }
}

/// ModulatedConv2d → NoiseInjection → FusedLeakyReLU.
public final class StyledConv: Module {
    public let conv: ModulatedConv2d
    public let noise = NoiseInjection()
    public let activate: FusedLeakyReLU

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, styleDim: Int, upsample: Bool = false,
                blurKernel: [Float] = [1, 3, 3, 1]) {
        conv = ModulatedConv2d(inChannels, outChannels, kernel: kernel, styleDim: styleDim, demodulate: true,
                               upsample: upsample, blurKernel: blurKernel)
        activate = FusedLeakyReLU(outChannels)
    }

    public var children: [(String, Module)] { [("conv", conv), ("noise", noise), ("activate", activate)] }

    /// x [B, in, H, W], style [B, style_dim], noise [B|1, 1, H', W'] -> [B, out, H', W']
    public func callAsFunction(_ x: Tensor, style: Tensor, noise n: Tensor) throws -> Tensor {
        let y = try conv(x, style: style)
        return try activate(try noise(y, noise: n))
    }
}

/// 1×1 modulated conv to RGB (no demodulation) + bias, plus the up-sampled previous RGB skip.
///   bias [1, 3, 1, 1]
public final class ToRGB: Module {
    public let conv: ModulatedConv2d
    public let upsample: FIRFilter?
    public let bias = parameter([1, 3, 1, 1])

    public init(_ inChannels: Int, styleDim: Int, upsample: Bool = true, blurKernel: [Float] = [1, 3, 3, 1]) {
        conv = ModulatedConv2d(inChannels, 3, kernel: 1, styleDim: styleDim, demodulate: false)
        // rosinality Upsample(factor 2): p = taps − 2; pad = ((p + 1)/2 + 1, p/2) → (2, 1).
        let p = blurKernel.count - 2
        self.upsample = upsample ? FIRFilter(taps: blurKernel, gain: 4, up: 2, pad: ((p + 1) / 2 + 1, p / 2)) : nil
    }

    public var parameters: [(String, Tensor)] { [("bias", bias)] }
    public var children: [(String, Module)] {
        var c: [(String, Module)] = []
        if let u = upsample { c.append(("upsample", u)) }
        c.append(("conv", conv))
        return c
    }
    public func resetParameters(_ rng: inout Philox) { bias.fill(0) }

    /// x [B, in, H, W], style [B, style_dim], skip [B, 3, H/2, W/2]? -> [B, 3, H, W]
    public func callAsFunction(_ x: Tensor, style: Tensor, skip: Tensor?) throws -> Tensor {
        var y = try add(try conv(x, style: style), bias)
        if let skip {
            guard let up = upsample else {
                throw TensorError.badArgument(op: "ToRGB", detail: "a skip input needs an up-sampling ToRGB")
            }
            y = try add(y, try up(skip))
        }
        return y
    }
}

/// The learned 4×4 input (rosinality `ConstantInput`), replaced by the structure code in ASIT.
///   input [1, C, 4, 4]
public final class ConstantInput: Module {
    public let input: Tensor
    public init(_ channels: Int, size: Int = 4) { input = parameter([1, channels, size, size]) }
    public var parameters: [(String, Tensor)] { [("input", input)] }
    public func resetParameters(_ rng: inout Philox) { input.fillNormal(&rng) }

    /// -> [B, C, 4, 4] (the constant broadcast over the batch)
    public func callAsFunction(batch: Int) throws -> Tensor {
        try add(Tensor(zeros: [batch] + Array(input.shape.dropFirst())), input)
    }
}
