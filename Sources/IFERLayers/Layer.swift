/// A module with a single-tensor forward, so it can sit in a `Sequential`.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) throws -> Tensor
}

/// torch.nn.Sequential: runs its layers in order. Children are keyed "0", "1", ... and
/// parameter-free layers (activations, pooling) still take an index, exactly as in PyTorch,
/// so `styles.3.blocks.2.attn.qkv.weight` style keys line up with the state_dict.
public final class Sequential: Layer {
    public var layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        for l in layers { h = try l(h) }
        return h
    }
}
