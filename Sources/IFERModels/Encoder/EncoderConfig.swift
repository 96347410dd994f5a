/// The ASIT encoder's architecture, the `model.encoder` section of a run config.
///
///     model:
///       encoder:
///         image_size: 256            # input is image_size² RGB
///         dim: 128                   # level 0 width; level i has dim·2^i channels
///         depths: [3, 4, 19, 5]      # blocks per level (even = local, odd = global query)
///         heads: [4, 8, 16, 32]
///         windows: [8, 8, 16, 8]     # window side per level; must divide that level's map
///         mlp_ratio: 2
///         layer_scale: 1.0e-5        # γ1, γ2 initial value
///         drop_path: 0.5             # largest drop-path rate (linear over all blocks)
///         qkv_bias: true
///         style_width: 512           # W+ code width = generator style_dim
///         style_counts: [3, 4, 7]    # codes per pyramid map, deepest (coarse) first
///         style_window: 8            # StyleBlock window in the style heads
///         style_heads: 1
///         style_mlp_ratio: 2
///         structure_channels: 512    # structure code C×4×4 (generator's 4×4 input channels)
///         structure_stride: 2
///         num_classes: 1000          # the unused ImageNet head (0 = none); kept for weight loading
///         as_coded: false            # true = the authors' global-query bugs (reference §2)
///
/// The pyramid reads the inputs of levels 0 ..< style_counts.count (paper: c1, c2, c3 of four
/// levels); the deepest of them must be `style_width` wide because the coarse heads read it as is.
public struct EncoderConfig: Equatable {
    public var imageSize = 256
    public var inChannels = 3
    public var dim = 128
    public var depths = [3, 4, 19, 5]
    public var heads = [4, 8, 16, 32]
    public var windows = [8, 8, 16, 8]
    public var mlpRatio: Float = 2
    public var layerScale: Float = 1e-5
    public var dropPath: Float = 0.5
    public var qkvBias = true
    public var styleWidth = 512
    public var styleCounts = [3, 4, 7]
    public var styleWindow = 8
    public var styleHeads = 1
    public var styleMlpRatio: Float = 2
    public var structureChannels = 512
    public var structureStride = 2
    public var numClasses = 1000
    public var asCoded = false

    public static let keys = ["image_size", "in_channels", "dim", "depths", "heads", "windows", "mlp_ratio",
                              "layer_scale", "drop_path", "qkv_bias", "style_width", "style_counts", "style_window",
                              "style_heads", "style_mlp_ratio", "structure_channels", "structure_stride",
                              "num_classes", "as_coded"]

    /// The paper's GC ViT-B encoder (all defaults).
    public init() {}

    /// Decodes `model.encoder` strictly (unknown keys and wrong types are errors naming the key
    /// path), then checks that the sizes fit together (`validate`).
    public init(_ s: ConfigSection) throws {
        try s.expectKeys(EncoderConfig.keys)
        let d = EncoderConfig()
        imageSize = try s.int("image_size", default: d.imageSize)
        inChannels = try s.int("in_channels", default: d.inChannels)
        dim = try s.int("dim", default: d.dim)
        depths = try s.intList("depths", default: d.depths)
        heads = try s.intList("heads", default: d.heads)
        windows = try s.intList("windows", default: d.windows)
        mlpRatio = try s.float("mlp_ratio", default: d.mlpRatio)
        layerScale = try s.float("layer_scale", default: d.layerScale)
        dropPath = try s.float("drop_path", default: d.dropPath)
        qkvBias = try s.bool("qkv_bias", default: d.qkvBias)
        styleWidth = try s.int("style_width", default: d.styleWidth)
        styleCounts = try s.intList("style_counts", default: d.styleCounts)
        styleWindow = try s.int("style_window", default: d.styleWindow)
        styleHeads = try s.int("style_heads", default: d.styleHeads)
        styleMlpRatio = try s.float("style_mlp_ratio", default: d.styleMlpRatio)
        structureChannels = try s.int("structure_channels", default: d.structureChannels)
        structureStride = try s.int("structure_stride", default: d.structureStride)
        numClasses = try s.int("num_classes", default: d.numClasses)
        asCoded = try s.bool("as_coded", default: d.asCoded)
        try validate(path: s.path)
    }

    /// Decodes the `model.encoder` section of a whole YAML document.
    public init(yaml: String) throws {
        try self.init(ConfigSection(yaml: yaml).section("model").section("encoder"))
    }

    // MARK: derived sizes

    public var levels: Int { depths.count }
    /// Pyramid maps (= style groups): the inputs of levels 0 ..< pyramidLevels.
    public var pyramidLevels: Int { styleCounts.count }
    public var nLatent: Int { styleCounts.reduce(0, +) }
    public func levelDim(_ i: Int) -> Int { dim << i }
    /// Side of level i's map: image / 4 after the stem, halved by every ReduceSize.
    public func levelResolution(_ i: Int) -> Int { (imageSize / 4) >> i }
    /// Width of the last level (the structure head's and the unused ImageNet head's input).
    public var finalDim: Int { levelDim(levels - 1) }
    /// Side of the structure code: Conv3×3, padding 1, stride `structureStride` of the last map.
    public var structureSize: Int { (levelResolution(levels - 1) - 1) / max(structureStride, 1) + 1 }
    /// Drop-path rate of every block in order: linspace(0, drop_path, total blocks).
    public var dropPathRates: [Float] {
        let n = depths.reduce(0, +)
        return (0..<n).map { n > 1 ? dropPath * Float($0) / Float(n - 1) : 0 }
    }
    /// Side of the map style group g reads (g = 0 is the deepest pyramid map).
    public func styleSpatial(group g: Int) -> Int { levelResolution(pyramidLevels - 1 - g) }

    // MARK: validation

    /// Every size rule, all checked at once so one error lists every offending key with the value
    /// it expected and the one it found.
    public func validate(path: String = "model.encoder") throws {
        var bad: [String] = []
        func need(_ ok: Bool, _ key: String, _ expected: String, _ found: Any) {
            if !ok { bad.append("\(key): expected \(expected), found \(found)") }
        }
        let L = depths.count
        need(L >= 1, "depths", "at least one level", depths)
        need(heads.count == L, "heads", "\(L) entries (one per level, like depths)", heads.count)
        need(windows.count == L, "windows", "\(L) entries (one per level, like depths)", windows.count)
        need(depths.allSatisfy { $0 >= 1 }, "depths", "every level at least 1 block", depths)
        need(inChannels >= 1, "in_channels", ">= 1", inChannels)
        need(dim >= 8 && dim % 4 == 0, "dim", "a multiple of 4, >= 8 (squeeze-excite and sinusoidal grid)", dim)
        need(mlpRatio > 0, "mlp_ratio", "> 0", mlpRatio)
        need(styleMlpRatio > 0, "style_mlp_ratio", "> 0", styleMlpRatio)
        need(dropPath >= 0 && dropPath < 1, "drop_path", "in [0, 1)", dropPath)
        need(numClasses >= 0, "num_classes", ">= 0", numClasses)
        need(structureChannels >= 1, "structure_channels", ">= 1", structureChannels)
        need(structureStride >= 1, "structure_stride", ">= 1", structureStride)
        if L >= 1 {
            let step = 4 << (L - 1)
            need(imageSize > 0 && imageSize % step == 0, "image_size",
                 "a multiple of \(step) (stem /4, then \(L - 1) halvings)", imageSize)
        }
        let levelsFit = L >= 1 && imageSize > 0 && imageSize % (4 << (L - 1)) == 0
        if levelsFit && heads.count == L && windows.count == L {
            for i in 0..<L {
                let r = levelResolution(i), c = levelDim(i), w = windows[i], h = heads[i]
                need(h >= 1 && c % h == 0, "heads[\(i)]", "a divisor of level \(i)'s width \(c)", h)
                let fits = w >= 1 && r % w == 0 && isPowerOfTwo(r / w)
                need(fits, "windows[\(i)]", "a window dividing level \(i)'s \(r)×\(r) map by a power of two", w)
            }
            need(structureSize == 4, "structure_stride",
                 "a stride that takes the last \(levelResolution(L - 1))×\(levelResolution(L - 1)) map to 4×4",
                 "\(structureStride) (gives \(structureSize)×\(structureSize))")
        }
        let P = styleCounts.count
        need(P >= 1 && P <= L, "style_counts", "1 to \(L) groups (one per pyramid level)", styleCounts)
        need(styleCounts.allSatisfy { $0 >= 1 }, "style_counts", "every group at least 1 code", styleCounts)
        need(styleHeads >= 1 && styleWidth % max(styleHeads, 1) == 0, "style_heads",
             "a divisor of style_width \(styleWidth)", styleHeads)
        if P >= 1 && P <= L {
            need(styleWidth == levelDim(P - 1), "style_width",
                 "\(levelDim(P - 1)) (the width of level \(P - 1), the deepest pyramid map)", styleWidth)
            if levelsFit {
                for g in 0..<P {
                    let s = styleSpatial(group: g)
                    need(isPowerOfTwo(s) && s >= 2, "image_size", "pyramid maps with power-of-two sides >= 2",
                         "\(imageSize) (group \(g) map \(s)×\(s))")
                    // After the first stride-2 conv, a map of side m >= style_window runs a StyleBlock.
                    var m = s / 2
                    while m > 1 {
                        if m >= styleWindow {
                            need(m % styleWindow == 0, "style_window", "a divisor of the \(m)×\(m) style-head map",
                                 styleWindow)
                        }
                        m /= 2
                    }
                }
            }
        }
        need(styleWindow >= 1, "style_window", ">= 1", styleWindow)
        if !bad.isEmpty {
            throw ConfigError(path: path, "sizes do not fit together:\n  " + bad.joined(separator: "\n  "))
        }
    }

    /// Checks the encoder against the generator it drives (code count and width, structure code,
    /// feature resolutions of the distribution loss, image size).
    public func validate(against g: GeneratorConfig, path: String = "model") throws {
        var bad: [String] = []
        if nLatent != g.nLatent {
            bad.append("encoder.style_counts: expected \(g.nLatent) codes in all (generator size \(g.size)), found \(nLatent)")
        }
        if styleWidth != g.styleDim {
            bad.append("encoder.style_width: expected \(g.styleDim) (generator style_dim), found \(styleWidth)")
        }
        if structureChannels != g.inputChannels {
            bad.append("encoder.structure_channels: expected \(g.inputChannels) (generator 4×4 input), found \(structureChannels)")
        }
        // The distribution loss pairs encoder branch f_i with the generator's features at the same resolution.
        let branches = (0..<pyramidLevels).map { levelResolution($0) }
        if g.featureResolutions != branches {
            bad.append("generator.feature_resolutions: expected \(branches) (the resolutions of the encoder's feature branches f1…f\(branches.count)), found \(g.featureResolutions)")
        }
        if imageSize != g.size {
            bad.append("encoder.image_size: expected \(g.size) (generator size), found \(imageSize)")
        }
        if !bad.isEmpty {
            throw ConfigError(path: path, "encoder and generator do not fit together:\n  " + bad.joined(separator: "\n  "))
        }
    }
}
