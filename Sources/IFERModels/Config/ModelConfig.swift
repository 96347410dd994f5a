/// The `model:` section of a run config: the architecture of every network.
///
///     model:
///       generator: {...}       # StyleGAN2 (GeneratorConfig)
///       encoder: {...}         # ASIT encoder (decoded by the encoder's own config type)
///       discriminator: {...}   # inversion discriminator (DiscriminatorConfig)
///       ifer_head: {...}       # IFER classifier head (IferHeadConfig)
///       activation_checkpointing: none   # none | encoder_blocks | generator | discriminator | all
///
/// Other top-level sections (data, train, optim, loss, dist, checkpoint, log) belong to the
/// training driver; `ModelConfig` never reads them.
public struct ModelConfig {
    public var generator: GeneratorConfig
    public var discriminator: DiscriminatorConfig
    public var iferHead: IferHeadConfig
    public var encoder: EncoderConfig
    /// Which subsections the file names (a generator-stage config has no ifer_head, ...).
    public var present: Set<String>
    /// Which blocks recompute their forward during backward instead of keeping activations.
    public var activationCheckpointing: ActivationCheckpointing

    public static let keys = ["generator", "encoder", "discriminator", "ifer_head", "activation_checkpointing"]

    /// Decodes `root.model` (root = the whole document).
    public init(root: ConfigSection) throws {
        guard root.has("model") else { throw ConfigError(path: "model", "required section is missing") }
        try self.init(section: root.section("model"))
    }

    /// Decodes a `model:` mapping itself.
    public init(section s: ConfigSection) throws {
        try s.expectKeys(ModelConfig.keys)
        generator = try GeneratorConfig(s.section("generator"))
        discriminator = try DiscriminatorConfig(s.section("discriminator"), imageSize: generator.size)
        iferHead = try IferHeadConfig(s.section("ifer_head"), generator: generator)
        encoder = try EncoderConfig(s.section("encoder"))
        let ac = try s.choice("activation_checkpointing", ActivationCheckpointing.allCases.map(\.rawValue),
                              default: ActivationCheckpointing.none.rawValue)
        activationCheckpointing = ActivationCheckpointing(rawValue: ac) ?? .none
        present = Set(s.keys)
    }

    /// The `model:` section of a config file or text, read by the one config reader.
    public init(file: String) throws {
        try self.init(root: ConfigSection(contentsOf: file))
    }

    public init(yaml: String) throws {
        try self.init(root: ConfigSection(yaml: yaml))
    }
}

/// `model.activation_checkpointing`: which networks trade a second forward for memory
/// (`Autograd.checkpoint`). Gradients are the same either way; the default keeps runs as they were.
///   none            keep every activation (default)
///   encoder_blocks  every GC ViT block of the ASIT encoder (asit and ifer stages)
///   generator       every resolution 8² … size² of the ASIT stage's frozen generator
///   discriminator   every ResBlock of the inversion discriminator's query branch (asit stage)
///   all             all three
/// The generator stage never checkpoints (its R1 and path-length penalties differentiate the
/// generator and discriminator twice) and rejects everything but `none` and `encoder_blocks`.
public enum ActivationCheckpointing: String, CaseIterable, Equatable {
    case none
    case encoderBlocks = "encoder_blocks"
    case generator
    case discriminator
    case all

    public var encoderBlocks: Bool { self == .encoderBlocks || self == .all }
    public var generatorResolutions: Bool { self == .generator || self == .all }
    public var discriminatorBlocks: Bool { self == .discriminator || self == .all }
}

/// rosinality's channel table: 512 up to 32², then 256·m, 128·m, 64·m, 32·m, 16·m at 64² … 1024²,
/// each capped at `channelMax` (small configs use one width everywhere).
public func styleganChannels(resolution r: Int, multiplier m: Int, max channelMax: Int) -> Int {
    let base: Int
    switch r {
    case ...32: base = 512
    case 64: base = 256 * m
    case 128: base = 128 * m
    case 256: base = 64 * m
    case 512: base = 32 * m
    default: base = 16 * m
    }
    return min(base, channelMax)
}

func isPowerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }

/// StyleGAN2 generator (rosinality `Generator(size, style_dim, n_mlp, channel_multiplier)`).
public struct GeneratorConfig: Equatable {
    public var size: Int
    public var styleDim: Int
    public var nMLP: Int
    public var channelMultiplier: Int
    public var channelMax: Int
    public var lrMLP: Float
    public var blurKernel: [Float]
    /// Resolutions whose features (after the second StyledConv) the distribution loss reads,
    /// in the order it uses them (the paper: [64, 32, 16]).
    public var featureResolutions: [Int]

    public static let keys = ["size", "style_dim", "n_mlp", "channel_multiplier", "channel_max", "lr_mlp",
                              "blur_kernel", "feature_resolutions"]

    public init(size: Int = 256, styleDim: Int = 512, nMLP: Int = 8, channelMultiplier: Int = 2, channelMax: Int = 512,
                lrMLP: Float = 0.01, blurKernel: [Float] = [1, 3, 3, 1], featureResolutions: [Int] = [64, 32, 16]) {
        self.size = size; self.styleDim = styleDim; self.nMLP = nMLP; self.channelMultiplier = channelMultiplier
        self.channelMax = channelMax; self.lrMLP = lrMLP; self.blurKernel = blurKernel
        self.featureResolutions = featureResolutions
    }

    public init(_ s: ConfigSection) throws {
        try s.expectKeys(GeneratorConfig.keys)
        let d = GeneratorConfig()
        size = try s.int("size", default: d.size)
        styleDim = try s.int("style_dim", default: d.styleDim)
        nMLP = try s.int("n_mlp", default: d.nMLP)
        channelMultiplier = try s.int("channel_multiplier", default: d.channelMultiplier)
        channelMax = try s.int("channel_max", default: d.channelMax)
        lrMLP = try s.float("lr_mlp", default: d.lrMLP)
        blurKernel = try s.floatList("blur_kernel", default: d.blurKernel)
        // Default: the paper's taps (64, 32, 16 at 256 px) scaled with the image size.
        featureResolutions = try s.intList("feature_resolutions", default: [size / 4, size / 8, size / 16].filter { $0 >= 4 })
        try s.require(isPowerOfTwo(size) && size >= 8, "size", "must be a power of two >= 8, got \(size)")
        try s.require(styleDim > 0, "style_dim", "must be positive")
        try s.require(nMLP >= 1, "n_mlp", "must be at least 1")
        try s.require(channelMultiplier > 0, "channel_multiplier", "must be positive")
        try s.require(channelMax > 0, "channel_max", "must be positive")
        try s.require(lrMLP > 0, "lr_mlp", "must be positive")
        try s.require(blurKernel.count == 4, "blur_kernel", "must have 4 taps (the up-sampling paddings assume it)")
        for r in featureResolutions {
            try s.require(isPowerOfTwo(r) && r >= 4 && r <= size, "feature_resolutions",
                          "\(r) is not a generator resolution (powers of two from 4 to \(size))")
        }
    }

    public var logSize: Int { size.trailingZeroBitCount }
    /// W+ codes: 2·log2(size) − 2 (14 at 256 px).
    public var nLatent: Int { 2 * logSize - 2 }
    /// Noise inputs: 2·log2(size) − 3 (13 at 256 px).
    public var nNoise: Int { 2 * logSize - 3 }
    public func channels(_ resolution: Int) -> Int {
        styleganChannels(resolution: resolution, multiplier: channelMultiplier, max: channelMax)
    }
    /// Channels of the 4×4 input, which the structure code replaces.
    public var inputChannels: Int { channels(4) }
}

/// Discriminator: `kind: inversion` (ASIT's two ResNet branches, q trained and k a momentum
/// copy) or `kind: stylegan2` (rosinality's GAN discriminator, for the generator stage).
public struct DiscriminatorConfig: Equatable {
    public var kind: String
    public var size: Int
    public var channelMultiplier: Int
    public var channelMax: Int
    /// Width of the final plain Linear (the embedding whose cosine is the output).
    public var outDim: Int
    /// k ← m·k + (1 − m)·q.
    public var momentum: Float

    /// Minibatch-stddev group size of the stylegan2 kind.
    public var stddevGroup: Int

    public static let keys = ["kind", "size", "channel_multiplier", "channel_max", "out_dim", "momentum", "stddev_group"]
    public static let kinds = ["inversion", "stylegan2"]

    public init(kind: String = "inversion", stddevGroup: Int = 4, size: Int = 256, channelMultiplier: Int = 2, channelMax: Int = 512, outDim: Int = 128, momentum: Float = 0.999) {
        self.kind = kind; self.stddevGroup = stddevGroup
        self.size = size; self.channelMultiplier = channelMultiplier; self.channelMax = channelMax
        self.outDim = outDim; self.momentum = momentum
    }

    public init(_ s: ConfigSection, imageSize: Int) throws {
        try s.expectKeys(DiscriminatorConfig.keys)
        let d = DiscriminatorConfig()
        kind = try s.choice("kind", DiscriminatorConfig.kinds, default: d.kind)
        stddevGroup = try s.int("stddev_group", default: d.stddevGroup)
        size = try s.int("size", default: imageSize)
        channelMultiplier = try s.int("channel_multiplier", default: d.channelMultiplier)
        channelMax = try s.int("channel_max", default: d.channelMax)
        outDim = try s.int("out_dim", default: d.outDim)
        momentum = try s.float("momentum", default: d.momentum)
        try s.require(isPowerOfTwo(size) && size >= 8, "size", "must be a power of two >= 8, got \(size)")
        try s.require(channelMultiplier > 0, "channel_multiplier", "must be positive")
        try s.require(channelMax > 0, "channel_max", "must be positive")
        try s.require(outDim > 0, "out_dim", "must be positive")
        try s.require(momentum >= 0 && momentum <= 1, "momentum", "must be in [0, 1]")
        try s.require(stddevGroup >= 1, "stddev_group", "must be at least 1")
    }

    public func channels(_ resolution: Int) -> Int {
        styleganChannels(resolution: resolution, multiplier: channelMultiplier, max: channelMax)
    }
}

/// IFER head: 1×1 conv on the structure code, modulated 3×3 conv driven by the mean latent,
/// global average pooling, linear classifier.
public struct IferHeadConfig: Equatable {
    /// Channels of the structure code (= the generator's 4×4 input channels).
    public var channels: Int
    /// Width of the latent codes that drive the modulation.
    public var styleDim: Int
    public var kernel: Int
    /// Class count; the data section may override it from the dataset's class list.
    public var numClasses: Int

    public static let keys = ["channels", "style_dim", "kernel", "num_classes"]

    public init(channels: Int = 512, styleDim: Int = 512, kernel: Int = 3, numClasses: Int = 7) {
        self.channels = channels; self.styleDim = styleDim; self.kernel = kernel; self.numClasses = numClasses
    }

    public init(_ s: ConfigSection, generator g: GeneratorConfig) throws {
        try s.expectKeys(IferHeadConfig.keys)
        channels = try s.int("channels", default: g.inputChannels)
        styleDim = try s.int("style_dim", default: g.styleDim)
        kernel = try s.int("kernel", default: 3)
        numClasses = try s.int("num_classes", default: 7)
        try s.require(channels > 0, "channels", "must be positive")
        try s.require(styleDim > 0, "style_dim", "must be positive")
        try s.require(kernel > 0 && kernel % 2 == 1, "kernel", "must be a positive odd number")
        try s.require(numClasses >= 2, "num_classes", "must be at least 2")
    }
}
