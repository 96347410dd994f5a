import IFERLayers

/// What one ASIT inversion pass returns.
public struct ASITOutput {
    /// Reconstruction ŷ = G(W+, structure, noise): [B, 3, S, S].
    public let image: Tensor
    /// W+ codes fed to the generator (encoder codes + latent_avg when enabled): [B, n_latent, W].
    public let codes: Tensor
    /// Structure code that replaced the generator's constant: [B, C4, 4, 4].
    public let structure: Tensor
    /// Encoder feature branches f1, f2, … (distribution loss).
    public let encoderFeatures: [Tensor]
    /// Generator activations per resolution (distribution loss).
    public let generatorFeatures: [Int: Tensor]
}

/// ASIT (the authors' `models/asit.py`): the encoder inverts an image into W+ codes and a
/// structure code, the StyleGAN2 generator renders them back; the inversion discriminator is
/// trained alongside.
///
/// State-dict keys: `encoder.*`, `decoder.*` (the authors' ASIT state_dict), plus the top-level
/// buffer `latent_avg` (the authors store it beside the state_dict under that name). The
/// discriminator keeps its own keys (`model_q.*`, `model_k.*`), so it is not a child here.
public final class ASIT: Module {
    public let encoder: ASITEncoder
    public let decoder: Generator
    public let discriminator: InversionDiscriminator
    /// w̄, the mean of mapping(z) (a [style_dim] vector), added to every code when
    /// `startFromLatentAvg` (the README's `--start_from_latent_avg`).
    public let latentAvg: Tensor
    public var startFromLatentAvg = true

    public init(encoder e: EncoderConfig, generator g: GeneratorConfig, discriminator d: DiscriminatorConfig) throws {
        try e.validate(against: g)
        encoder = try ASITEncoder(e)
        decoder = Generator(g)
        discriminator = InversionDiscriminator(d)
        latentAvg = buffer([g.styleDim])
    }

    /// Builds every network of a `model:` config (encoder, generator, discriminator sections).
    public convenience init(_ config: ModelConfig) throws {
        try self.init(encoder: config.encoder, generator: config.generator,
                      discriminator: config.discriminator)
        encoder.checkpointBlocks = config.activationCheckpointing.encoderBlocks
        decoder.checkpointResolutions = config.activationCheckpointing.generatorResolutions
        discriminator.modelQ.checkpointBlocks = config.activationCheckpointing.discriminatorBlocks
    }

    public var buffers: [(String, Tensor)] { [("latent_avg", latentAvg)] }
    public var children: [(String, Module)] { [("encoder", encoder), ("decoder", decoder)] }

    /// Fresh random weights for every network: encoder and generator under their state_dict
    /// paths, the discriminator (not a child, see above) under its own (`model_q`, `model_k` = q).
    public func resetNetworks(seed: UInt64) {
        resetAll(seed: seed)
        discriminator.resetAll(seed: seed)
    }

    /// The generator stays frozen in ASIT training (`--train_decoder` False): no gradients are
    /// accumulated for it, though gradients still flow through it into the codes.
    public func freezeDecoder() {
        for (_, p) in decoder.namedParameters() { p.requiresGrad = false }
    }

    /// Sets latent_avg = mean of mapping(z) over `samples` draws (the coach's mean_latent(1e5)
    /// for a generator checkpoint without one).
    public func computeLatentAvg(samples: Int = 100_000, rng: inout Philox) throws {
        let m = try Autograd.noGrad { try decoder.meanLatent(samples: samples, rng: &rng) }
        try latentAvg.assign(m)
    }

    /// x [B, 3, S, S] -> codes (+ latent_avg), structure, encoder features.
    /// `rngs`: one generator per image for drop path (empty = evaluation).
    public func encode(_ x: Tensor, rngs: inout [Philox]) throws -> EncoderOutput {
        let out = try encoder.forward(x, rngs: &rngs)
        guard startFromLatentAvg else { return out }
        let w = try add(out.codes, try reshape(latentAvg, [1, 1, latentAvg.count]))   // [B, n_latent, W]
        return EncoderOutput(codes: w, structure: out.structure, features: out.features)
    }

    /// Full inversion: encode, then render with the given noise maps (nil = the generator's
    /// stored noise buffers, i.e. `randomize_noise=False`).
    public func callAsFunction(_ x: Tensor, rngs: inout [Philox], noise: [Tensor]? = nil) throws -> ASITOutput {
        let e = try encode(x, rngs: &rngs)
        let g = try decoder(e.codes, structure: e.structure, noise: noise)
        return ASITOutput(image: g.image, codes: e.codes, structure: e.structure, encoderFeatures: e.features,
                          generatorFeatures: g.features)
    }
}
