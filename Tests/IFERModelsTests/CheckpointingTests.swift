import XCTest
@testable import IFERModels

/// `model.activation_checkpointing`: a GC ViT level (a local and a global-query block, drop path
/// on), a generator (every resolution), and the tiny ASIT inversion give the same gradients with
/// recompute as without (bitwise, or within 1e-6 relative where the summation order of an input
/// read by several blocks changes), with a lower peak of live tensor storage.
final class CheckpointingTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    /// max |a − b| / max |b| over every pair (0 when all are bitwise equal).
    func worst(_ a: [[Float]], _ b: [[Float]]) -> Float {
        var w: Float = 0
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.count, y.count)
            let scale = max(y.map(abs).max() ?? 0, 1e-30)
            for (u, v) in zip(x, y) { w = max(w, abs(u - v) / scale) }
        }
        return w
    }

    func testConfigKey() throws {
        let base = "model:\n  generator: {size: 16, style_dim: 16, n_mlp: 1, channel_max: 16}\n"
        XCTAssertEqual(try ModelConfig(yaml: base).activationCheckpointing, .none, "default off")
        let all = try ModelConfig(yaml: base + "  activation_checkpointing: all\n").activationCheckpointing
        XCTAssertTrue(all.encoderBlocks && all.generatorResolutions)
        let enc = try ModelConfig(yaml: base + "  activation_checkpointing: encoder_blocks\n").activationCheckpointing
        XCTAssertTrue(enc.encoderBlocks && !enc.generatorResolutions && !enc.discriminatorBlocks)
        XCTAssertTrue(all.discriminatorBlocks)
        XCTAssertThrowsError(try ModelConfig(yaml: base + "  activation_checkpointing: everything\n")) { e in
            XCTAssertTrue("\(e)".contains("model.activation_checkpointing"), "\(e)")
            XCTAssertTrue("\(e)".contains("encoder_blocks"), "\(e)")
        }
    }

    func testGCViTBlocksLocalAndGlobal() throws {
        func run(_ checkpointed: Bool) throws -> (grads: [[Float]], peak: Int) {
            let level = GCViTLevel(dim: 16, depth: 2, resolution: 8, heads: 2, window: 4, mlpRatio: 2, qkvBias: true,
                                   dropPaths: [0.3, 0.3], layerScale: 1, downsample: false, asCoded: false)
            level.resetAll(seed: 3)
            for b in level.blocks { b.checkpointed = checkpointed }
            var rng = Philox(seed: 4)
            let x = Tensor.randn([4, 8, 8, 16], &rng)
            x.requiresGrad = true
            let start = Storage.live.bytes
            Storage.live.resetPeak()
            var rngs = (0..<4).map { Philox(seed: 8, UInt64($0)) }
            let y = try level(x, rngs: &rngs)
            try y.backward(gradient: Tensor.randn(y.shape, &rng))
            return ([x.grad?.array ?? []] + level.namedParameters().map { $0.tensor.grad?.array ?? [] }, Storage.live.peak - start)
        }
        let plain = try run(false), ckpt = try run(true)
        XCTAssertTrue(plain.grads.dropFirst().allSatisfy { $0.contains { $0 != 0 } }, "every parameter takes a gradient")
        XCTAssertLessThanOrEqual(worst(ckpt.grads, plain.grads), 1e-6)
        XCTAssertLessThan(ckpt.peak, plain.peak, "peak \(ckpt.peak) B with recompute, \(plain.peak) B without")
    }

    func testGeneratorResolutionsTrainableAndFrozen() throws {
        let config = GeneratorConfig(size: 32, styleDim: 16, nMLP: 1, channelMultiplier: 1, channelMax: 16)
        func run(_ checkpointed: Bool, frozen: Bool) throws -> (grads: [[Float]], peak: Int) {
            let g = Generator(config)
            g.resetAll(seed: 5)
            g.checkpointResolutions = checkpointed
            if frozen { for (_, p) in g.namedParameters() { p.requiresGrad = false } }
            var rng = Philox(seed: 6)
            let latents = Tensor.randn([2, config.nLatent, 16], &rng)
            let structure = Tensor.randn([2, 16, 4, 4], &rng)
            latents.requiresGrad = true
            structure.requiresGrad = true
            var rngs = (0..<2).map { Philox(seed: 7, UInt64($0)) }
            let noise = g.randomNoise(rngs: &rngs)
            let start = Storage.live.bytes
            Storage.live.resetPeak()
            let out = try g(latents, structure: structure, noise: noise)
            // The image and a feature tap (an output of a checkpointed block read outside it).
            let f = try XCTUnwrap(out.features[16])
            let loss = try add(try mseLoss(out.image, Tensor(zeros: out.image.shape)), meanAll(try mul(f, f)))
            try loss.backward()
            let params = frozen ? [] : g.namedParameters().map { $0.tensor.grad?.array ?? [] }
            return ([latents.grad?.array ?? [], structure.grad?.array ?? []] + params, Storage.live.peak - start)
        }
        for frozen in [false, true] {
            let plain = try run(false, frozen: frozen), ckpt = try run(true, frozen: frozen)
            XCTAssertTrue(plain.grads[0].contains { $0 != 0 } && plain.grads[1].contains { $0 != 0 })
            XCTAssertLessThanOrEqual(worst(ckpt.grads, plain.grads), 1e-6, "frozen: \(frozen)")
            XCTAssertLessThan(ckpt.peak, plain.peak, "frozen: \(frozen): peak \(ckpt.peak) B with recompute, \(plain.peak) B without")
        }
    }

    func testInversionDiscriminatorResBlocks() throws {
        let config = DiscriminatorConfig(size: 32, channelMax: 16, outDim: 8)
        func run(_ checkpointed: Bool) throws -> (grads: [[Float]], peak: Int) {
            let d = InversionDiscriminator(config)
            d.resetAll(seed: 2)
            d.modelQ.checkpointBlocks = checkpointed
            XCTAssertEqual(d.modelQ.checkpointBlocks, checkpointed)
            var rng = Philox(seed: 3)
            let a = Tensor.randn([2, 3, 32, 32], &rng), b = Tensor.randn([2, 3, 32, 32], &rng)
            a.requiresGrad = true
            let start = Storage.live.bytes
            Storage.live.resetPeak()
            try meanAll(try d(a, b)).backward()
            return ([a.grad?.array ?? []] + d.modelQ.namedParameters().map { $0.tensor.grad?.array ?? [] }, Storage.live.peak - start)
        }
        let plain = try run(false), ckpt = try run(true)
        XCTAssertTrue(plain.grads.allSatisfy { $0.contains { $0 != 0 } })
        XCTAssertLessThanOrEqual(worst(ckpt.grads, plain.grads), 1e-6)
        XCTAssertLessThan(ckpt.peak, plain.peak, "peak \(ckpt.peak) B with recompute, \(plain.peak) B without")
    }

    /// R1 / path length differentiate twice: a checkpointed generator says so instead of a wrong answer.
    func testSecondOrderThroughACheckpointedGeneratorIsRefused() throws {
        let config = GeneratorConfig(size: 16, styleDim: 16, nMLP: 1, channelMultiplier: 1, channelMax: 16)
        let g = Generator(config)
        g.resetAll(seed: 1)
        g.checkpointResolutions = true
        var rng = Philox(seed: 2)
        let latents = Tensor.randn([1, config.nLatent, 16], &rng)
        latents.requiresGrad = true
        let image = try g(latents).image
        XCTAssertThrowsError(try Autograd.grad(of: [image], wrt: [latents], seeds: [Tensor.randn(image.shape, &rng)], createGraph: true)) { e in
            XCTAssertTrue("\(e)".contains("GeneratorBlock(16x16) is activation-checkpointed"), "\(e)")  // the last resolution is met first
        }
    }

    /// The tiny ASIT (configs/tiny/asit.yaml): encoder with drop path and frozen generator, as the
    /// asit stage's E step runs them; every encoder gradient is unchanged by `all`.
    func testTinyASITInversion() throws {
        var mc = try ModelConfig(file: repoRoot.appendingPathComponent("configs/tiny/asit.yaml").path)
        XCTAssertEqual(mc.activationCheckpointing, .none)
        func run(_ mode: ActivationCheckpointing) throws -> (grads: [[Float]], peak: Int) {
            mc.activationCheckpointing = mode
            let asit = try ASIT(mc)
            XCTAssertEqual(asit.encoder.checkpointBlocks, mode.encoderBlocks)
            XCTAssertEqual(asit.decoder.checkpointResolutions, mode.generatorResolutions)
            asit.resetNetworks(seed: 2)
            asit.freezeDecoder()
            var rng = Philox(seed: 3)
            let x = Tensor.randn([2, 3, 64, 64], &rng)
            let start = Storage.live.bytes
            Storage.live.resetPeak()
            var rngs = (0..<2).map { Philox(seed: 4, UInt64($0)) }
            let inv = try asit(x, rngs: &rngs)
            var loss = try mseLoss(inv.image, x)
            for f in inv.encoderFeatures { loss = try add(loss, meanAll(try mul(f, f))) }
            try loss.backward()
            return (asit.encoder.namedParameters().map { $0.tensor.grad?.array ?? [] }, Storage.live.peak - start)
        }
        let plain = try run(.none)
        XCTAssertGreaterThan(plain.grads.filter { $0.contains { $0 != 0 } }.count, plain.grads.count / 2)
        for mode in [ActivationCheckpointing.encoderBlocks, .generator, .all] {
            let ckpt = try run(mode)
            XCTAssertLessThanOrEqual(worst(ckpt.grads, plain.grads), 1e-6, "\(mode)")
            XCTAssertLessThan(ckpt.peak, plain.peak, "\(mode): peak \(ckpt.peak) B with recompute, \(plain.peak) B without")
        }
    }
}
