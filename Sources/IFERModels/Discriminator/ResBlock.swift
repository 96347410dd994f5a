import IFERLayers

/// rosinality `ResBlock`: out = (conv2(conv1(x)) + skip(x)) / √2, halving the resolution.
///   conv1 = ConvLayer 3×3 in→in; conv2 = Blur + EqualConv 3×3 s2 in→out + FusedLeakyReLU;
///   skip = Blur + EqualConv 1×1 s2 in→out, no bias, no activation.
public final class ResBlock: Layer {
    public let inChannels: Int, outChannels: Int
    public let conv1: Sequential, conv2: Sequential, skip: Sequential

    public init(_ inChannels: Int, _ outChannels: Int, blurKernel: [Float] = [1, 3, 3, 1]) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        conv1 = convLayer(inChannels, inChannels, kernel: 3, blurKernel: blurKernel)
        conv2 = convLayer(inChannels, outChannels, kernel: 3, downsample: true, blurKernel: blurKernel)
        skip = convLayer(inChannels, outChannels, kernel: 1, downsample: true, blurKernel: blurKernel, bias: false, activate: false)
    }

    public var children: [(String, Module)] { [("conv1", conv1), ("conv2", conv2), ("skip", skip)] }

    /// Activation checkpointing (`model.activation_checkpointing: discriminator` / `all`, the
    /// inversion discriminator's query branch): keep only the input, recompute in backward.
    public var checkpointed = false

    /// x [B, in, H, W] -> [B, out, H/2, W/2]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard checkpointed else { return try forward(x) }
        return try recomputed("ResBlock(\(inChannels)->\(outChannels))", x) { try self.forward($0) }
    }

    /// The block itself (what `callAsFunction` runs, or checkpoints).
    func forward(_ x: Tensor) throws -> Tensor {
        let main = try conv2(try conv1(x))
        let short = try skip(x)
        return try scale(try add(main, short), 1 / Float(2).squareRoot())
    }

    public func macs(_ h: Int) -> Int {
        let a = convLayerMACs(conv1, h)
        let b = convLayerMACs(conv2, a.out)
        let c = convLayerMACs(skip, h)
        return a.macs + b.macs + c.macs
    }
}

/// rosinality's discriminator trunk, shared by the inversion discriminator's branches and the
/// StyleGAN2 GAN discriminator: a 1x1 FromRGB conv at full resolution, then ResBlocks halving
/// the resolution down to 4x4 (channels from the config's channel table).
func residualTrunk(_ config: DiscriminatorConfig) -> Sequential {
    var layers: [Layer] = [convLayer(3, config.channels(config.size), kernel: 1)]
    var r = config.size
    while r > 4 {
        layers.append(ResBlock(config.channels(r), config.channels(r / 2)))
        r /= 2
    }
    return Sequential(layers)
}
