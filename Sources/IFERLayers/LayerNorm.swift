/// torch.nn.LayerNorm over the last axis: weight 1, bias 0 at reset.
///   weight [dim], bias [dim]
public final class LayerNorm: Layer {
    public let dim: Int
    public let eps: Float
    public let weight: Tensor, bias: Tensor

    public init(_ dim: Int, eps: Float = 1e-5) {
        self.dim = dim
        self.eps = eps
        self.weight = parameter([dim])
        self.bias = parameter([dim])
    }

    public var parameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }

    public func resetParameters(_ rng: inout Philox) {
        weight.fill(1)
        bias.fill(0)
    }

    /// x [..., dim] -> [..., dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.dim(-1) == dim else {
            throw TensorError.shapeMismatch(op: "LayerNorm(\(dim))", shapes: [x.shape, [dim]], detail: "input's last axis must be \(dim)")
        }
        return try layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}
