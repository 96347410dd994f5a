import IFERLayers

/// What the encoder returns for a batch of N images.
public struct EncoderOutput {
    /// Raw W+ codes [N, n_latent, style_width] (latent_avg is added by the ASIT assembly).
    public let codes: Tensor
    /// Structure code [N, structure_channels, 4, 4]: replaces the generator's constant input.
    public let structure: Tensor
    /// Feature branches f1, f2, … (LeakyReLU(Conv1×1(c_i)), style_width channels) for the
    /// distribution loss, shallowest first.
    public let features: [Tensor]
}

/// The ASIT encoder (the authors' `GCViT` class): a GC ViT backbone, a pSp-style pyramid of
/// style heads on the level inputs, a structure head on the last level and feature branches.
///
///   stem:       x [N, 3, S, S] -> [N, S/4, S/4, dim]                 (patch_embed)
///   levels:     level i runs on c_{i+1} = its input, [N, R_i, R_i, dim·2^i]
///   features:   f_i = LeakyReLU(convs.i(c_i)) for the pyramid levels
///   pyramid:    p = c_P; codes of group 0 from p; then p ← up(p) + latlayer_g(c_{P−g}) per group
///   structure:  last_block(level output) -> [N, structure_channels, 4, 4]
/// `norm` and `head` are the unused ImageNet classifier, kept so the authors' weights load strictly.
/// Keys: patch_embed, levels.{i}, convs.{i}, last_block, styles.{j}, latlayer{g}, norm, head.
public final class ASITEncoder: Module {
    public let config: EncoderConfig
    public let patchEmbed: PatchEmbed
    public let levels: [GCViTLevel]
    public let convs: [Conv2d]
    public let lastBlock: Conv2d
    public let styles: [GradualStyleBlock]
    public let latlayers: [Conv2d]
    public let norm: LayerNorm
    public let head: Linear?

    /// Builds the modules (parameters zero until `resetAll(seed:)` or a weight load).
    public init(_ config: EncoderConfig) throws {
        try config.validate()
        self.config = config
        let c = config
        patchEmbed = PatchEmbed(inChannels: c.inChannels, dim: c.dim)
        let rates = c.dropPathRates
        var lv: [GCViTLevel] = [], cv: [Conv2d] = []
        var first = 0
        for i in 0..<c.levels {
            lv.append(GCViTLevel(dim: c.levelDim(i), depth: c.depths[i], resolution: c.levelResolution(i),
                                 heads: c.heads[i], window: c.windows[i], mlpRatio: c.mlpRatio, qkvBias: c.qkvBias,
                                 dropPaths: Array(rates[first..<first + c.depths[i]]), layerScale: c.layerScale,
                                 downsample: i < c.levels - 1, asCoded: c.asCoded))
            first += c.depths[i]
            if i < c.pyramidLevels { cv.append(Conv2d(c.levelDim(i), c.styleWidth, kernel: 1)) }
        }
        levels = lv
        convs = cv
        lastBlock = Conv2d(c.finalDim, c.structureChannels, kernel: 3, stride: c.structureStride, padding: 1)
        var st: [GradualStyleBlock] = []
        for (g, n) in c.styleCounts.enumerated() {
            for _ in 0..<n {
                st.append(GradualStyleBlock(width: c.styleWidth, spatial: c.styleSpatial(group: g),
                                            window: c.styleWindow, heads: c.styleHeads, mlpRatio: c.styleMlpRatio))
            }
        }
        styles = st
        latlayers = (1..<max(c.pyramidLevels, 1)).map { g in
            Conv2d(c.levelDim(c.pyramidLevels - 1 - g), c.styleWidth, kernel: 1)
        }
        norm = LayerNorm(c.finalDim)
        head = c.numClasses > 0 ? Linear(c.finalDim, c.numClasses, init: .truncatedNormal(std: 0.02)) : nil
    }

    public var children: [(String, Module)] {
        var ch: [(String, Module)] = [("patch_embed", patchEmbed), ("levels", ModuleList(levels)),
                                      ("convs", ModuleList(convs)), ("last_block", lastBlock),
                                      ("styles", ModuleList(styles))]
        for (g, l) in latlayers.enumerated() { ch.append(("latlayer\(g + 1)", l)) }
        ch.append(("norm", norm))
        if let h = head { ch.append(("head", h)) }
        return ch
    }

    /// Activation checkpointing of every GC ViT block and every style head
    /// (`model.activation_checkpointing: encoder_blocks` or `all`): each keeps only its input on
    /// the tape and is recomputed during backward. Gradients are unchanged; the peak memory drops
    /// by their activations (at 256 px the 14 style heads hold about as much as the 31 blocks).
    public var checkpointBlocks: Bool {
        get { levels.allSatisfy { $0.blocks.allSatisfy(\.checkpointed) } && styles.allSatisfy(\.checkpointed) }
        set {
            for l in levels { for b in l.blocks { b.checkpointed = newValue } }
            for s in styles { s.checkpointed = newValue }
        }
    }

    /// Evaluation forward (no drop path).
    public func callAsFunction(_ x: Tensor) throws -> EncoderOutput {
        var none: [Philox] = []
        return try forward(x, rngs: &none)
    }

    /// x [N, in_channels, S, S] -> codes, structure, features. `rngs`: one generator per image
    /// for drop path during training (pass an empty array to evaluate).
    public func forward(_ x: Tensor, rngs: inout [Philox]) throws -> EncoderOutput {
        let c = config
        guard x.rank == 4, x.dim(1) == c.inChannels, x.dim(2) == c.imageSize, x.dim(3) == c.imageSize else {
            throw TensorError.shapeMismatch(op: "ASITEncoder", shapes: [x.shape],
                                            detail: "expected [N, \(c.inChannels), \(c.imageSize), \(c.imageSize)]")
        }
        guard rngs.isEmpty || rngs.count == x.dim(0) else {
            throw TensorError.badArgument(op: "ASITEncoder", detail: "\(rngs.count) drop-path generators for \(x.dim(0)) images")
        }
        var h = try patchEmbed(x)                                           // [N, S/4, S/4, dim]
        var pyramid: [Tensor] = [], features: [Tensor] = []
        for (i, level) in levels.enumerated() {
            if i < c.pyramidLevels {
                let ci = try permute(h, [0, 3, 1, 2])                       // c_{i+1} [N, C_i, R_i, R_i]
                pyramid.append(ci)
                features.append(try leakyRelu(try convs[i](ci), slope: 0.01))  // [N, style_width, R_i, R_i]
            }
            h = try level(h, rngs: &rngs)
        }
        // Style pyramid, deepest map first.
        var codes: [Tensor] = []
        var p = pyramid[c.pyramidLevels - 1]
        var j = 0
        for (g, n) in c.styleCounts.enumerated() {
            if g > 0 {
                let lat = try latlayers[g - 1](pyramid[c.pyramidLevels - 1 - g])           // [N, W, R, R]
                p = try add(try resizeBilinear(p, height: lat.dim(2), width: lat.dim(3), alignCorners: true), lat)
            }
            for _ in 0..<n {
                codes.append(try reshape(try styles[j](p), [x.dim(0), 1, c.styleWidth]))         // [N, 1, W]
                j += 1
            }
        }
        let structure = try lastBlock(try permute(h, [0, 3, 1, 2]))         // [N, structure_channels, 4, 4]
        return EncoderOutput(codes: try concat(codes, axis: 1), structure: structure, features: features)
    }
}
