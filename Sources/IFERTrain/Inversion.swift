import Foundation
import IFERIO

/// An ASIT inverter restored from a checkpoint of the `asit` stage (for example one converted
/// from the authors' weights with scripts/convert/to_ifer.py asit): encoder, generator and
/// latent_avg. The discriminator is not needed to invert and is not read.
public struct TrainedInverter {
    public let asit: ASIT
    public let header: CheckpointHeader
    public let path: String

    /// `configFile` replaces the checkpoint's own config (which a converted checkpoint lacks
    /// unless --config was given to the converter).
    public static func load(_ path: String, configFile: String? = nil) throws -> TrainedInverter {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: InversionStage.name)
        let mc: ModelConfig
        if let configFile {
            mc = try ModelConfig(file: configFile)
        } else {
            guard !r.header.config.isEmpty else {
                throw CheckpointError(.incompatible, path: path, "holds no config; pass the model config it was converted with (--config)")
            }
            mc = try ModelConfig(yaml: r.header.config)
        }
        let asit = try ASIT(mc)
        // Every encoder and generator tensor must be in the file; the discriminator may be there too.
        try r.loadInto(params: asit.namedParameters().map { (key: $0.0, tensor: $0.1) },
                       buffers: asit.namedBuffers().map { (key: $0.0, tensor: $0.1) }, ignoringOthers: true)
        return TrainedInverter(asit: asit, header: r.header, path: path)
    }

    /// The same ASIT with the encoder the config's random initialisation gives for `seed` (what
    /// the asit stage starts from with train.seed = `seed`), the generator and latent_avg of
    /// this one: the "untrained encoder" baseline of `ifer eval`.
    public func untrainedTwin(seed: UInt64) throws -> ASIT {
        let twin = try ASIT(encoder: asit.encoder.config, generator: asit.decoder.config, discriminator: asit.discriminator.config)
        twin.resetNetworks(seed: seed)
        for ((_, mine), (_, theirs)) in zip(asit.decoder.namedParameters() + asit.decoder.namedBuffers(),
                                            twin.decoder.namedParameters() + twin.decoder.namedBuffers()) {
            try theirs.assign(mine)
        }
        try twin.latentAvg.assign(asit.latentAvg)
        twin.startFromLatentAvg = asit.startFromLatentAvg
        return twin
    }

    /// Side of the square images the encoder reads.
    public var inputSize: Int { asit.encoder.config.imageSize }

    /// The reconstruction ŷ = G(E(x)) of images [N, 3, S, S] in [-1, 1], without drop path and
    /// with the generator's stored noise maps (deterministic).
    public func invert(_ x: Tensor) throws -> Tensor {
        var none: [Philox] = []
        return try Autograd.noGrad { try asit(x, rngs: &none).image }
    }
}

/// Image [3, S, S] (row `index` of a batch) in [-1, 1] -> 8-bit RGB, rounded and clamped.
public func rgbImage(_ x: Tensor, index: Int = 0) -> RGBImage {
    let s = x.dim(-1), plane = s * s, src = x.ptr + index * 3 * plane
    var pixels = [UInt8](repeating: 0, count: plane * 3)
    for i in 0..<plane {
        for c in 0..<3 { pixels[i * 3 + c] = UInt8(min(max((src[c * plane + i] + 1) * 127.5 + 0.5, 0), 255)) }
    }
    return RGBImage(width: s, height: s, pixels: pixels)
}
