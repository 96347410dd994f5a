import IFERLayers

/// The IFER feature-modulation head (IFER-master `ifer_model` minus `feature_model`):
///   w̄ = mean of the W+ codes over the latent axis;
///   S' = conv (1×1, with bias)(structure);
///   Y = style_conv (ModulatedConv2d k×k, demodulated)(S', w̄), no activation;
///   logits = head (Linear)(global average pool(Y)).
/// Keys: conv.weight/bias, style_conv.weight, style_conv.modulation.weight/bias, head.weight/bias.
public final class IferHead: Module {
    public let config: IferHeadConfig
    public let conv: Conv2d
    public let styleConv: ModulatedConv2d
    public let head: Linear

    public init(_ config: IferHeadConfig) {
        self.config = config
        conv = Conv2d(config.channels, config.channels, kernel: 1)
        styleConv = ModulatedConv2d(config.channels, config.channels, kernel: config.kernel, styleDim: config.styleDim, demodulate: true)
        head = Linear(config.channels, config.numClasses)
    }

    public var children: [(String, Module)] { [("conv", conv), ("style_conv", styleConv), ("head", head)] }

    /// codes [B, n_latent, style_dim] (raw encoder output, without latent_avg),
    /// structure [B, C, h, w] -> logits [B, num_classes]
    public func callAsFunction(codes: Tensor, structure: Tensor) throws -> Tensor {
        let op = "IferHead"
        guard codes.rank == 3, codes.dim(2) == config.styleDim else {
            throw TensorError.shapeMismatch(op: op, shapes: [codes.shape], detail: "codes must be [B, n, \(config.styleDim)]")
        }
        guard structure.rank == 4, structure.dim(0) == codes.dim(0), structure.dim(1) == config.channels else {
            throw TensorError.shapeMismatch(op: op, shapes: [codes.shape, structure.shape],
                                            detail: "structure must be [\(codes.dim(0)), \(config.channels), h, w]")
        }
        let wbar = try mean(codes, axes: [1])                      // [B, style_dim]
        let s = try conv(structure)                                // [B, C, h, w]
        let y = try styleConv(s, style: wbar)                      // [B, C, h, w]
        let pooled = try mean(y, axes: [2, 3])                     // [B, C]
        return try head(pooled)                                    // [B, num_classes]
    }

    /// Forward MACs for one sample with a structure code of h×w.
    public func macs(height h: Int = 4, width w: Int = 4) -> Int {
        conv.macs(height: h, width: w) + styleConv.macs(height: h, width: w) + head.inFeatures * head.outFeatures
    }
}
