import IFERLayers

/// StyleGAN2's equalised linear layer (rosinality `EqualLinear`).
///
/// The weight is stored as N(0, 1)/lr_mul and scaled by lr_mul/√in at run time, so every layer
/// learns at the same rate under Adam; lr_mul < 1 (0.01 in the mapping) slows a layer down.
///   y = x·(W·lr_mul/√in)ᵀ + b·lr_mul, then optionally √2·leaky_relu(·, 0.2) ("fused_lrelu").
///   weight [out, in], bias [out]
public final class EqualLinear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let lrMul: Float, biasInit: Float
    public let activation: Bool
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, biasInit: Float = 0, lrMul: Float = 1,
                activation: Bool = false) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.lrMul = lrMul
        self.biasInit = biasInit
        self.activation = activation
        self.weight = parameter([outFeatures, inFeatures])
        self.bias = bias ? parameter([outFeatures]) : nil
    }

    public var parameters: [(String, Tensor)] {
        var p = [("weight", weight)]
        if let b = bias { p.append(("bias", b)) }
        return p
    }

    public func resetParameters(_ rng: inout Philox) {
        weight.fillNormal(&rng, std: 1 / lrMul)
        bias?.fill(biasInit)
    }

    public var scale: Float { lrMul / Float(inFeatures).squareRoot() }

    /// x [..., in] -> [..., out]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.dim(-1) == inFeatures else {
            throw TensorError.shapeMismatch(op: "EqualLinear(\(inFeatures), \(outFeatures))", shapes: [x.shape, weight.shape],
                                            detail: "input's last axis must be \(inFeatures)")
        }
        let lead = Array(x.shape.dropLast())
        let x2 = try reshape(x, [lead.reduce(1, *), inFeatures])     // [rows, in]
        var y = try matmul(x2, IFERTensor.scale(weight, self.scale), transposeB: true)  // [rows, out]
        if let b = bias { y = try add(y, try IFERTensor.scale(b, lrMul)) }     // + b·lr_mul
        if activation { y = try leakyRelu(y, slope: 0.2, gain: Float(2).squareRoot()) }
        return try reshape(y, lead + [outFeatures])                   // [..., out]
    }
}

/// x / √(mean(x², channels) + 1e-8) (the mapping network's input normalisation).
public final class PixelNorm: Layer {
    public init() {}
    /// z [N, C] -> [N, C]
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try pixelNorm(x, eps: 1e-8) }
}
