/// torch.nn.Conv2d over NCHW images.
///   weight [out, in/groups, kh, kw] (OIHW), bias [out]
public final class Conv2d: Module {
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: Int, padding: Int, groups: Int
    public let weight: Tensor
    public let bias: Tensor?
    public var initialization: WeightInit

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, init initialization: WeightInit = .torchDefault) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = (kernel, kernel)
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.weight = parameter([outChannels, inChannels / groups, kernel, kernel])
        self.bias = bias ? parameter([outChannels]) : nil
        self.initialization = initialization
    }

    public var parameters: [(String, Tensor)] {
        var p = [("weight", weight)]
        if let b = bias { p.append(("bias", b)) }
        return p
    }

    public var fanIn: Int { (inChannels / groups) * kernel.0 * kernel.1 }

    public func resetParameters(_ rng: inout Philox) {
        initialization.apply(weight: weight, bias: bias, fanIn: fanIn, rng: &rng)
    }

    /// Output spatial size for an input of size `h`.
    public func outputSize(_ h: Int) -> Int { (h + 2 * padding - kernel.0) / stride + 1 }

    /// Multiply-accumulates for one image of size h×w.
    public func macs(height h: Int, width w: Int) -> Int {
        outputSize(h) * outputSize(w) * outChannels * fanIn
    }
}
