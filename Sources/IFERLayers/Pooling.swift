/// Pooling layers (parameter-free, indexable inside a `Sequential`).

/// nn.MaxPool2d(kernel, stride, padding): x [N, C, H, W] -> [N, C, H', W'].
public final class MaxPool2d: Layer {
    public let kernel: Int, stride: Int, padding: Int
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }
    public func outputSize(_ h: Int) -> Int { (h + 2 * padding - kernel) / stride + 1 }
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
    }
}

/// nn.AdaptiveAvgPool2d((h, w)): x [N, C, H, W] -> [N, C, h, w].
public final class AdaptiveAvgPool2d: Layer {
    public let height: Int, width: Int
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try adaptiveAvgPool2d(x, outputSize: (height, width))
    }
}
