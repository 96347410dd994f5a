/// Parameter-free layers, so they can take their PyTorch index inside a `Sequential`.

/// nn.GELU (exact erf form).
public final class GELU: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try gelu(x) }
}

/// nn.ReLU.
public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try relu(x) }
}

/// nn.LeakyReLU(slope) (0.01 is PyTorch's default; StyleGAN2 uses 0.2 with gain √2 instead).
public final class LeakyReLU: Layer {
    public let slope: Float, gain: Float
    public init(slope: Float = 0.01, gain: Float = 1) { self.slope = slope; self.gain = gain }
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try leakyRelu(x, slope: slope, gain: gain) }
}

/// nn.Sigmoid.
public final class Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try sigmoid(x) }
}

/// nn.Identity (also stands for Dropout(p) layers that are always run at p = 0 or in eval).
public final class Identity: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) throws -> Tensor { x }
}
