import IFERLayers

/// The generator's stored noise maps (rosinality `noises`): buffers noise_0 … noise_{n−1},
/// noise_k of shape [1, 1, 2^((k+5)/2), same], used when noise is not randomised.
public final class NoiseBuffers: Module {
    public let maps: [Tensor]
    init(count: Int) {
        maps = (0..<count).map { k in
            let r = 1 << ((k + 5) / 2)
            return buffer([1, 1, r, r])
        }
    }
    public var buffers: [(String, Tensor)] { maps.enumerated().map { ("noise_\($0.offset)", $0.element) } }
    public func resetParameters(_ rng: inout Philox) { for m in maps { m.fillNormal(&rng) } }
}

/// What one synthesis pass returns.
public struct GeneratorOutput {
    /// [B, 3, size, size], roughly in [-1, 1] (not clamped).
    public let image: Tensor
    /// Per resolution, the activation after that resolution's last StyledConv
    /// (conv1 at 4², the second StyledConv above): [B, C_r, r, r].
    public let features: [Int: Tensor]
}

/// One resolution of the synthesis network: an up-sampling StyledConv, a StyledConv at the new
/// resolution and the ToRGB that adds to the up-sampled skip image. rosinality keeps these in two
/// flat lists (`convs`: up, plain, up, plain ...; `to_rgbs`) and loops over
/// `zip(convs[::2], convs[1::2], noise[1::2], noise[2::2], to_rgbs)`; a block is one item of that zip.
public struct GeneratorBlock {
    public let conv1: StyledConv
    public let conv2: StyledConv
    public let toRGB: ToRGB

    /// x [B, C_in, r/2, r/2], skip [B, 3, r/2, r/2], the block's three codes [B, style_dim] and
    /// two noise maps [B|1, 1, r, r] -> (x [B, C_r, r, r], skip [B, 3, r, r]).
    func callAsFunction(_ x: Tensor, skip: Tensor, codes: [Tensor], noise: (Tensor, Tensor)) throws -> (Tensor, Tensor) {
        let h = try conv1(x, style: codes[0], noise: noise.0)                          // [B, C_r, r, r], r doubles
        let y = try conv2(h, style: codes[1], noise: noise.1)                          // [B, C_r, r, r]
        return (y, try toRGB(y, style: codes[2], skip: skip))                           // [B, 3, r, r]
    }

    /// The same with activation checkpointing: only the block's inputs stay on the tape and the
    /// block is recomputed during backward (`Autograd.checkpoint`; no randomness inside).
    func checkpointed(_ x: Tensor, skip: Tensor, codes: [Tensor], noise: (Tensor, Tensor)) throws -> (Tensor, Tensor) {
        let params = [conv1.namedParameters(), conv2.namedParameters(), toRGB.namedParameters()].flatMap { $0.map(\.tensor) }
        var none: [Philox] = []
        let outs = try Autograd.checkpoint("GeneratorBlock(\(x.dim(2) * 2)x\(x.dim(3) * 2))", inputs: [x, skip] + codes,
                                           parameters: params, rngs: &none) { t, _ in
            let (y, rgb) = try self(t[0], skip: t[1], codes: Array(t[2...]), noise: noise)
            return [y, rgb]
        }
        return (outs[0], outs[1])
    }
}

/// StyleGAN2 generator in rosinality's layout (`Generator(size, style_dim, n_mlp, channel_multiplier)`),
/// with ASIT's change: the 4×4 constant input can be replaced by a structure code.
///
/// Keys: style.{1..n_mlp} (mapping; style.0 is PixelNorm), input.input, conv1, to_rgb1,
/// convs.{0..} (even = up-sampling), to_rgbs.{0..}, noises.noise_{0..}.
public final class Generator: Module {
    public let config: GeneratorConfig
    public let style: Sequential
    public let input: ConstantInput
    public let conv1: StyledConv
    public let toRGB1: ToRGB
    /// Resolutions 8, 16, ... size; keyed as rosinality's convs.{2j, 2j+1} and to_rgbs.{j}.
    public let blocks: [GeneratorBlock]
    public let noises: NoiseBuffers
    /// Activation checkpointing per resolution 8² … size² (`model.activation_checkpointing:
    /// generator` or `all`; the ASIT stage's frozen generator). Not for a generator that is
    /// differentiated twice (R1, path length): `Autograd.grad` refuses checkpointed blocks.
    public var checkpointResolutions = false

    public init(_ config: GeneratorConfig) {
        self.config = config
        let c = config
        var mapping: [Layer] = [PixelNorm()]
        for _ in 0..<c.nMLP { mapping.append(EqualLinear(c.styleDim, c.styleDim, lrMul: c.lrMLP, activation: true)) }
        style = Sequential(mapping)
        input = ConstantInput(c.channels(4))
        conv1 = StyledConv(c.channels(4), c.channels(4), kernel: 3, styleDim: c.styleDim, blurKernel: c.blurKernel)
        toRGB1 = ToRGB(c.channels(4), styleDim: c.styleDim, upsample: false, blurKernel: c.blurKernel)
        var blockList: [GeneratorBlock] = []
        var inCh = c.channels(4)
        for i in 3...c.logSize {
            let outCh = c.channels(1 << i)
            blockList.append(GeneratorBlock(
                conv1: StyledConv(inCh, outCh, kernel: 3, styleDim: c.styleDim, upsample: true, blurKernel: c.blurKernel),
                conv2: StyledConv(outCh, outCh, kernel: 3, styleDim: c.styleDim, blurKernel: c.blurKernel),
                toRGB: ToRGB(outCh, styleDim: c.styleDim, blurKernel: c.blurKernel)))
            inCh = outCh
        }
        blocks = blockList
        noises = NoiseBuffers(count: c.nNoise)
    }

    /// rosinality's `convs` list: the two StyledConvs of every block, in order.
    public var convs: ModuleList { ModuleList(blocks.flatMap { [$0.conv1, $0.conv2] }) }
    /// rosinality's `to_rgbs` list.
    public var toRGBs: ModuleList { ModuleList(blocks.map(\.toRGB)) }

    public var children: [(String, Module)] {
        [("style", style), ("input", input), ("conv1", conv1), ("to_rgb1", toRGB1), ("convs", convs),
         ("to_rgbs", toRGBs), ("noises", noises)]
    }

    /// Mapping network: z [B, style_dim] -> w [B, style_dim].
    public func mapping(_ z: Tensor) throws -> Tensor {
        guard z.rank == 2, z.dim(1) == config.styleDim else {
            throw TensorError.shapeMismatch(op: "Generator.mapping", shapes: [z.shape], detail: "z must be [B, \(config.styleDim)]")
        }
        return try style(z)
    }

    /// Mean of mapping(z) over `n` samples z ~ N(0, I) (rosinality `mean_latent`): [style_dim].
    /// Computed in chunks without gradients; `rng` draws the samples.
    public func meanLatent(samples n: Int, rng: inout Philox, chunk: Int = 4096) throws -> Tensor {
        guard n > 0 else { throw TensorError.badArgument(op: "Generator.meanLatent", detail: "needs at least one sample") }
        let d = config.styleDim
        var acc = [Double](repeating: 0, count: d)
        try Autograd.noGrad {
            var done = 0
            while done < n {
                let b = min(chunk, n - done)
                let w = try mapping(Tensor.randn([b, d], &rng))      // [b, d]
                for i in 0..<b { for j in 0..<d { acc[j] += Double(w.ptr[i * d + j]) } }
                done += b
            }
        }
        return try Tensor(acc.map { Float($0 / Double(n)) }, shape: [d])
    }

    /// Fresh noise maps for every noise input, [B, 1, r, r] each; row i comes from rngs[i]
    /// (so a sample's noise does not depend on how the batch is split over ranks).
    public func randomNoise(rngs: inout [Philox]) -> [Tensor] {
        let b = rngs.count
        return noises.maps.map { m in
            let r = m.dim(2)
            let t = Tensor(zeros: [b, 1, r, r])
            for i in 0..<b { for j in 0..<(r * r) { t.ptr[i * r * r + j] = rngs[i].normal() } }
            return t
        }
    }

    /// Synthesis from W+ codes.
    ///   latents [B, n_latent, style_dim]; structure [B, C4, 4, 4] replaces the constant input when
    ///   given; noise: one map per noise input ([B|1, 1, r, r]), nil = the stored `noises` buffers.
    ///   -> image [B, 3, size, size] and the per-resolution features.
    public func callAsFunction(_ latents: Tensor, structure: Tensor? = nil, noise: [Tensor]? = nil) throws -> GeneratorOutput {
        let op = "Generator"
        let c = config
        guard latents.rank == 3, latents.dim(1) == c.nLatent, latents.dim(2) == c.styleDim else {
            throw TensorError.shapeMismatch(op: op, shapes: [latents.shape], detail: "latents must be [B, \(c.nLatent), \(c.styleDim)]")
        }
        let b = latents.dim(0)
        let noiseMaps = noise ?? noises.maps
        guard noiseMaps.count == c.nNoise else {
            throw TensorError.badArgument(op: op, detail: "\(noiseMaps.count) noise maps given, the generator has \(c.nNoise) noise inputs")
        }
        func code(_ i: Int) throws -> Tensor {                                          // [B, style_dim]
            try reshape(try slice(latents, axis: 1, start: i, end: i + 1), [b, c.styleDim])
        }

        var x: Tensor
        if let structure {
            guard structure.shape == [b, c.inputChannels, 4, 4] else {
                throw TensorError.shapeMismatch(op: op, shapes: [structure.shape], detail: "structure code must be [\(b), \(c.inputChannels), 4, 4]")
            }
            x = structure                                                               // [B, C4, 4, 4]
        } else {
            x = try input(batch: b)                                                     // [B, C4, 4, 4]
        }
        var features: [Int: Tensor] = [:]
        x = try conv1(x, style: try code(0), noise: noiseMaps[0])                       // [B, C4, 4, 4]
        features[4] = x
        var skip = try toRGB1(x, style: try code(1), skip: nil)                         // [B, 3, 4, 4]
        // zip(noise[1::2], noise[2::2]): the two noise maps of each block.
        let noisePairs = zip(everySecond(noiseMaps, from: 1), everySecond(noiseMaps, from: 2))
        var i = 1
        for (block, (noise1, noise2)) in zip(blocks, noisePairs) {
            let codes = [try code(i), try code(i + 1), try code(i + 2)]
            let run = checkpointResolutions ? block.checkpointed : block.callAsFunction
            (x, skip) = try run(x, skip, codes, (noise1, noise2))                       // [B, C_r, r, r], [B, 3, r, r]
            features[x.dim(2)] = x
            i += 2
        }
        return GeneratorOutput(image: skip, features: features)
    }

    /// Synthesis from z: the mapping's w repeated over every W+ slot, constant input.
    ///   z [B, style_dim] -> image [B, 3, size, size] and features
    public func sample(_ z: Tensor, noise: [Tensor]? = nil) throws -> GeneratorOutput {
        let w = try mapping(z)                                                          // [B, S]
        let b = z.dim(0)
        let latents = try add(Tensor(zeros: [b, config.nLatent, config.styleDim]),
                              try reshape(w, [b, 1, config.styleDim]))                  // [B, n_latent, S]
        return try self(latents, structure: nil, noise: noise)
    }

    /// Forward MACs for one image from W+ codes (convolutions, blurs and style affines).
    public var macs: Int {
        var m = conv1.conv.macs(height: 4, width: 4) + toRGB1.conv.macs(height: 4, width: 4)
        var r = 4
        for block in blocks {
            m += block.conv1.conv.macs(height: r, width: r)
            r *= 2
            m += block.conv2.conv.macs(height: r, width: r)
            m += block.toRGB.conv.macs(height: r, width: r) + 3 * r * r * 16
        }
        return m
    }

    /// MACs of one mapping forward (one z).
    public var mappingMACs: Int { config.nMLP * config.styleDim * config.styleDim }
}

/// Python's `xs[start::2]`.
private func everySecond<T>(_ xs: [T], from start: Int) -> [T] {
    stride(from: start, to: xs.count, by: 2).map { xs[$0] }
}
