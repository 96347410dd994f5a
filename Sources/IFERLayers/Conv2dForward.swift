extension Conv2d: Layer {
    /// x [N, in, H, W] -> [N, out, H', W'], H' = (H + 2·padding − k) / stride + 1
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.dim(1) == inChannels else {
            throw TensorError.shapeMismatch(op: "Conv2d(\(inChannels), \(outChannels), k\(kernel.0))", shapes: [x.shape, weight.shape],
                                            detail: "expected [N, \(inChannels), H, W]")
        }
        return try conv2d(x, weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }
}
