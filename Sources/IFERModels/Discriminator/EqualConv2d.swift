import IFERLayers

/// StyleGAN2's equalised conv (rosinality `EqualConv2d`): weight N(0, 1) scaled by 1/√(in·k²)
/// at run time, bias 0.
///   weight [out, in, k, k], bias [out]
public final class EqualConv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernel
        self.stride = stride
        self.padding = padding
        weight = parameter([outChannels, inChannels, kernel, kernel])
        self.bias = bias ? parameter([outChannels]) : nil
    }

    public var parameters: [(String, Tensor)] {
        var p = [("weight", weight)]
        if let b = bias { p.append(("bias", b)) }
        return p
    }

    public func resetParameters(_ rng: inout Philox) {
        weight.fillNormal(&rng)
        bias?.fill(0)
    }

    public var scale: Float { 1 / Float(inChannels * kernelSize * kernelSize).squareRoot() }
    public func outputSize(_ h: Int) -> Int { (h + 2 * padding - kernelSize) / stride + 1 }
    public func macs(height h: Int, width w: Int) -> Int {
        outputSize(h) * outputSize(w) * outChannels * inChannels * kernelSize * kernelSize
    }

    /// x [N, in, H, W] -> [N, out, H', W']
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try conv2d(x, IFERTensor.scale(weight, self.scale), bias: bias, stride: stride, padding: padding)
    }
}

/// rosinality `ConvLayer`: a Sequential of [Blur (when down-sampling)], EqualConv2d,
/// [FusedLeakyReLU (when activated)]; the conv's own bias is used only without activation.
public func convLayer(_ inChannels: Int, _ outChannels: Int, kernel: Int, downsample: Bool = false,
                      blurKernel: [Float] = [1, 3, 3, 1], bias: Bool = true, activate: Bool = true) -> Sequential {
    var layers: [Layer] = []
    var stride = 1, padding = kernel / 2
    if downsample {
        // rosinality: p = (taps − 2) + (k − 1); blur pad ((p + 1)/2, p/2); conv stride 2, no padding.
        let p = (blurKernel.count - 2) + (kernel - 1)
        layers.append(FIRFilter(taps: blurKernel, pad: ((p + 1) / 2, p / 2)))
        stride = 2
        padding = 0
    }
    layers.append(EqualConv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding,
                              bias: bias && !activate))
    if activate { layers.append(FusedLeakyReLU(outChannels)) }
    return Sequential(layers)
}

/// MACs of a convLayer Sequential for an h×h input (the blur counted as a depthwise conv,
/// as PyTorch's flop counter sees upfirdn2d): (MACs, output size).
func convLayerMACs(_ s: Sequential, _ h: Int) -> (macs: Int, out: Int) {
    let channels = s.layers.compactMap { ($0 as? EqualConv2d)?.inChannels }.first ?? 0
    var m = 0, r = h
    for l in s.layers {
        if let f = l as? FIRFilter { r = f.outputSize(r); m += r * r * f.size * f.size * channels }
        if let c = l as? EqualConv2d { m += c.macs(height: r, width: r); r = c.outputSize(r) }
    }
    return (m, r)
}
