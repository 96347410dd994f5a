import IFERLayers

/// The IFER expression classifier (the authors' `ifer_model`): the ASIT encoder under the key
/// `feature_model` plus the feature-modulation head at the top level (keys `conv.*`,
/// `style_conv.*`, `head.*`), exactly the authors' state_dict layout.
///   (W, S, _) = E(x);  logits = head(W without latent_avg, S)
public final class IferClassifier: Module {
    public let featureModel: ASITEncoder
    public let head: IferHead

    public init(encoder e: EncoderConfig, head h: IferHeadConfig) throws {
        try IferClassifier.validate(encoder: e, head: h)
        featureModel = try ASITEncoder(e)
        head = IferHead(h)
    }

    /// The head must read the encoder's code width and structure-code channels.
    public static func validate(encoder e: EncoderConfig, head h: IferHeadConfig) throws {
        var bad: [String] = []
        if h.styleDim != e.styleWidth {
            bad.append("ifer_head.style_dim: expected \(e.styleWidth) (encoder style_width), found \(h.styleDim)")
        }
        if h.channels != e.structureChannels {
            bad.append("ifer_head.channels: expected \(e.structureChannels) (encoder structure_channels), found \(h.channels)")
        }
        if !bad.isEmpty {
            throw ConfigError(path: "model", "encoder and IFER head do not fit together:\n  " + bad.joined(separator: "\n  "))
        }
    }

    public convenience init(_ config: ModelConfig) throws {
        try self.init(encoder: config.encoder, head: config.iferHead)
        featureModel.checkpointBlocks = config.activationCheckpointing.encoderBlocks
    }

    /// feature_model first, then the head's own children at the top level (no `head.` prefix
    /// on conv / style_conv; the head's Linear is itself named `head`).
    public var children: [(String, Module)] { [("feature_model", featureModel)] + head.children }

    /// x [B, 3, S, S] -> logits [B, num_classes]. `rngs`: drop-path generators (empty = eval).
    public func forward(_ x: Tensor, rngs: inout [Philox]) throws -> Tensor {
        let e = try featureModel.forward(x, rngs: &rngs)
        return try head(codes: e.codes, structure: e.structure)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var none: [Philox] = []
        return try forward(x, rngs: &none)
    }

    /// The classifier key of an ASIT encoder key (`encoder.X` -> `feature_model.X`), as
    /// `ifer_model` loads the ASIT checkpoint; nil for keys outside the encoder.
    public static func key(fromASIT k: String) -> String? {
        k.hasPrefix("encoder.") ? "feature_model." + k.dropFirst("encoder.".count) : nil
    }
}
