import IFERLayers

/// The full StyleGAN2 discriminator (rosinality `Discriminator(size, channel_multiplier)`), for
/// the `generator` stage (training a StyleGAN2 from scratch): the ResNet trunk of the inversion
/// branch, then minibatch standard deviation, a 3×3 ConvLayer and two EqualLinears to one logit.
/// Keys: convs.*, final_conv.{0,1}, final_linear.{0,1}.
public final class StyleGANDiscriminator: Module {
    public let config: DiscriminatorConfig
    public let convs: Sequential
    public let finalConv: Sequential
    public let finalLinear: Sequential
    /// Samples per minibatch-stddev group (rosinality: 4), and stddev features (1).
    public let stddevGroup: Int

    public init(_ config: DiscriminatorConfig, stddevGroup: Int = 4) {
        self.config = config
        self.stddevGroup = stddevGroup
        convs = residualTrunk(config)
        let c = config.channels(4)
        finalConv = convLayer(c + 1, c, kernel: 3)
        finalLinear = Sequential([EqualLinear(c * 16, c, activation: true), EqualLinear(c, 1)])
    }

    public var children: [(String, Module)] { [("convs", convs), ("final_conv", finalConv), ("final_linear", finalLinear)] }

    /// Forward MACs for one image.
    public var macs: Int {
        var m = 0, r = config.size
        for l in convs.layers {
            if let s = l as? Sequential { let c = convLayerMACs(s, r); m += c.macs; r = c.out }
            if let b = l as? ResBlock { m += b.macs(r); r /= 2 }
        }
        m += convLayerMACs(finalConv, 4).macs
        for l in finalLinear.layers { if let e = l as? EqualLinear { m += e.inFeatures * e.outFeatures } }
        return m
    }

    /// images [B, 3, size, size] -> logits [B, 1]. B must be a multiple of min(B, stddevGroup).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let op = "StyleGANDiscriminator"
        guard x.rank == 4, x.dim(1) == 3, x.dim(2) == config.size, x.dim(3) == config.size else {
            throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "expected images [B, 3, \(config.size), \(config.size)]")
        }
        let b = x.dim(0)
        let h = try convs(x)                                                 // [B, C, 4, 4]
        let c = h.dim(1)
        let g = min(b, stddevGroup)
        guard b % g == 0 else {
            throw TensorError.badArgument(op: op, detail: "batch \(b) is not a multiple of the stddev group \(g)")
        }
        // Minibatch stddev: rows n and n + B/g·k (k < g) form one group; each row gets its group's
        // mean (over C, H, W) of the per-element standard deviation as one extra channel.
        let grouped = try reshape(h, [g, b / g, c, 4, 4])                   // [g, B/g, C, 4, 4]
        let centred = try sub(grouped, mean(grouped, axes: [0], keepDims: true))
        let sd = sqrt(addScalar(try mean(square(centred), axes: [0]), 1e-8))   // [B/g, C, 4, 4]
        let stat = try mean(sd, axes: [1, 2, 3])                             // [B/g]
        let rows = try reshape(stat, [1, b / g, 1, 1, 1])
        let channel = try add(Tensor(zeros: [g, b / g, 1, 4, 4]), rows)     // [g, B/g, 1, 4, 4]
        let withStd = try concat([h, reshape(channel, [b, 1, 4, 4])], axis: 1)  // [B, C+1, 4, 4]
        let f = try finalConv(withStd)                                       // [B, C, 4, 4]
        return try finalLinear(reshape(f, [b, c * 16]))                     // [B, 1]
    }
}
