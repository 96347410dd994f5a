/// torch.nn.Linear: y = x·Wᵀ + b over the last axis.
///   weight [out, in] (PyTorch layout), bias [out]
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Tensor
    public let bias: Tensor?
    public var initialization: WeightInit

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, init initialization: WeightInit = .torchDefault) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = parameter([outFeatures, inFeatures])
        self.bias = bias ? parameter([outFeatures]) : nil
        self.initialization = initialization
    }

    public var parameters: [(String, Tensor)] {
        var p = [("weight", weight)]
        if let b = bias { p.append(("bias", b)) }
        return p
    }

    public func resetParameters(_ rng: inout Philox) {
        initialization.apply(weight: weight, bias: bias, fanIn: inFeatures, rng: &rng)
    }

    /// x [..., in] -> [..., out]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.dim(-1) == inFeatures else {
            throw TensorError.shapeMismatch(op: "Linear(\(inFeatures), \(outFeatures))", shapes: [x.shape, weight.shape],
                                            detail: "input's last axis must be \(inFeatures)")
        }
        // matmul needs rank >= 2: fold every leading axis into one row axis.
        let lead = Array(x.shape.dropLast())
        let rows = lead.reduce(1, *)
        let x2 = try reshape(x, [rows, inFeatures])                // [rows, in]
        var y = try matmul(x2, weight, transposeB: true)            // [rows, out]
        if let b = bias { y = try add(y, b) }                       // [rows, out] + [out]
        return try reshape(y, lead + [outFeatures])                 // [..., out]
    }
}
