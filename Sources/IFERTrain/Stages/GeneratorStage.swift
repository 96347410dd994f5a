import Foundation
import Logging

/// The `generator` stage: StyleGAN2 from scratch on a shard set, as rosinality's train.py trains
/// it, both networks data-parallel. One step (`gan` section; lazy regularisation):
///
///   D step:    fake = G(mix(z)) without gradients; L_D = mean softplus(−D(x)) + mean softplus(D(fake))
///   R1:        every r1_every steps: (γ/2 · r1_every) · mean_i ||∂ΣD(x)/∂x_i||² on the reals, its own D update
///   G step:    fake = G(mix(z)); L_G = mean softplus(−D(fake)) (non-saturating), D frozen
///   path:      every path_every steps, on local batch / path_batch_shrink samples:
///              J = ∂Σ(G(w) · n/√(HW))/∂w, ℓ_i = √(mean_k ||J_ik||²), a' = a + decay·(mean ℓ − a),
///              (path_weight · path_every) · mean (ℓ − a')², its own G update
///   EMA:       g_ema = β·g_ema + (1 − β)·G, β = 0.5^(batch / (1000 · ema_kimg))
///
/// Adam with the lazy-regularisation correction (c = every / (every + 1)): lr·c, betas^c. The
/// mapping network's smaller learning rate is its equalised layers' lr_mlp. Every random draw
/// (z, mixing crossover, noise inputs, path-length image noise) is keyed by (seed, step, global
/// sample index), so a step does not depend on how its batch is split over ranks (except what
/// is per rank in rosinality too: the minibatch-stddev groups and the path-length sub-batch)
/// and a resumed run is the straight run bit for bit. Style mixing and its crossover layer are
/// drawn per sample (rosinality draws them once per batch).
///
/// Checkpoint: the training generator under `generator.*`, the discriminator under
/// `discriminator.*`, and g_ema under `decoder.*` with `latent_avg` (mean of g_ema's mapping
/// over `train.latent_avg_samples` z): the `asit` stage loads it as its frozen generator
/// (`train.generator`).
public final class GeneratorStage: TrainingStage {
    public static let name = "generator"

    let context: StageContext
    let gan: RunConfig.GAN
    let generator: Generator
    let gEMA: Generator
    let discriminator: StyleGANDiscriminator
    let latentAvg: Tensor                 // [style_dim], mean of g_ema's mapping
    let meanPathLength: Tensor            // [1], the running path-length mean `a`
    let lastPenalties: Tensor             // [3]: the last r1, path penalty and mean path length (logged every step)
    let generatorParams: [NamedTensor]
    let discriminatorParams: [NamedTensor]
    let flatG: FlatBuffer, flatD: FlatBuffer
    let dpG: DataParallel, dpD: DataParallel
    let optG: Optimizer, optD: Optimizer
    let ratioG: Float, ratioD: Float      // lazy-regularisation corrections every / (every + 1)
    let ema: EMA

    public static func data(_ c: RunConfig) throws -> StageData {
        let size = c.model.generator.size
        let aug = c.data.augment && c.data.flip ? Augmentation(outputSize: size, flip: 0.5) : Augmentation(outputSize: size)
        return StageData(imageSize: size, trainAugmentation: aug, evalAugmentation: Augmentation(outputSize: size))
    }

    public init(_ context: StageContext) throws {
        self.context = context
        let c = context.config, comm = context.comm
        gan = c.gan
        guard c.model.discriminator.kind == "stylegan2" else {
            throw ConfigError.badValue(path: "model.discriminator.kind", detail: "the generator stage trains the StyleGAN2 discriminator: set kind: stylegan2")
        }
        guard c.model.discriminator.size == c.model.generator.size else {
            throw ConfigError.badValue(path: "model.discriminator.size",
                                       detail: "\(c.model.discriminator.size) but the generator makes \(c.model.generator.size) px images")
        }
        let local = c.train.batchSize / comm.worldSize, group = min(local, c.model.discriminator.stddevGroup)
        guard local % group == 0 else {
            throw ConfigError.badValue(path: "train.batch_size",
                                       detail: "\(local) images per rank is not a multiple of the minibatch-stddev group \(group) (model.discriminator.stddev_group)")
        }
        let ac = c.model.activationCheckpointing
        guard !ac.generatorResolutions && !ac.discriminatorBlocks else {
            throw ConfigError.badValue(path: "model.activation_checkpointing",
                                       detail: "'\(ac.rawValue)' checkpoints the generator or discriminator, but the generator stage differentiates them twice (R1, path length): use none")
        }
        generator = Generator(c.model.generator)
        gEMA = Generator(c.model.generator)
        discriminator = StyleGANDiscriminator(c.model.discriminator, stddevGroup: c.model.discriminator.stddevGroup)
        let seed = UInt64(c.train.seed)
        generator.resetAll(seed: seed)
        gEMA.resetAll(seed: seed)
        discriminator.resetAll(seed: seed &+ 1)
        latentAvg = Tensor(zeros: [c.model.generator.styleDim], kind: .buffer)
        meanPathLength = Tensor(zeros: [1], kind: .buffer)
        lastPenalties = Tensor(zeros: [3], kind: .buffer)

        generatorParams = generator.namedParameters(prefix: "generator.")
        discriminatorParams = discriminator.namedParameters(prefix: "discriminator.")
        for (k, t) in generatorParams + discriminatorParams { t.name = k }
        let emaParams = gEMA.namedParameters(prefix: "decoder.")
        for (k, t) in emaParams { t.name = k; t.requiresGrad = false }
        flatG = FlatBuffer(generatorParams.map(\.tensor), withGradients: true)
        flatD = FlatBuffer(discriminatorParams.map(\.tensor), withGradients: true)
        let bucket = Int(c.dist.bucketMB * 1_048_576)
        // g_ema, the noise buffers and the path-length state are identical on every rank by
        // construction: the replica check verifies them with the generator.
        let gBuffers = emaParams.map(\.tensor) + gEMA.namedBuffers().map(\.tensor) + generator.namedBuffers().map(\.tensor)
            + [latentAvg, meanPathLength, lastPenalties]
        dpG = try DataParallel(flatG, comm: comm, buffers: gBuffers, bucketBytes: bucket)
        dpD = try DataParallel(flatD, comm: comm, buffers: [], bucketBytes: bucket)
        dpG.requireSync = c.dist.allreduce
        dpD.requireSync = c.dist.allreduce

        ratioG = Float(c.gan.pathEvery) / Float(c.gan.pathEvery + 1)
        ratioD = Float(c.gan.r1Every) / Float(c.gan.r1Every + 1)
        func corrected(_ ratio: Float) -> RunConfig.Optim {
            var o = c.optim
            o.betas = o.betas.map { Foundation.pow($0, ratio) }
            return o
        }
        optG = try makeOptimizer(flatG, corrected(ratioG))
        optD = try makeOptimizer(flatD, corrected(ratioD))
        let beta = Foundation.pow(Float(0.5), Float(c.train.batchSize) / (1000 * c.gan.emaKimg))
        ema = try EMA(source: generatorParams.map(\.tensor), target: emaParams.map(\.tensor), decay: beta)
    }

    public var lossTerms: [LossTerm] {
        var on: [LossTerm] = [.lossD, .lossG, .realScore, .fakeScore]
        if gan.r1 > 0 { on.append(.r1) }
        if gan.pathWeight > 0 { on += [.pathPenalty, .pathLength, .meanPathLength] }
        return on
    }

    public var summary: String {
        "generator \(generator.parameterCount) / discriminator \(discriminator.parameterCount) trainable parameters; g_ema beta \(ema.decay)"
    }
    public var replicas: [DataParallel] { [dpG, dpD] }

    public var checkpointParams: [NamedTensor] {
        generatorParams + discriminatorParams + gEMA.namedParameters(prefix: "decoder.")
    }
    public var checkpointBuffers: [NamedTensor] {
        generator.namedBuffers(prefix: "generator.") + gEMA.namedBuffers(prefix: "decoder.")
            + [(key: "latent_avg", tensor: latentAvg), (key: "mean_path_length", tensor: meanPathLength),
               (key: "last_penalties", tensor: lastPenalties)]
    }
    /// Every draw of this stage is keyed by (seed, step, sample): a rank's RNG state is a placeholder.
    public var rankRNG: [UInt64] { Philox(seed: 0).state }

    /// Rank 0's random networks for every rank; g_ema starts as a copy of the generator.
    public func freshStart() throws -> String {
        try dpG.broadcastParameters()
        try dpD.broadcastParameters()
        ema.copy()
        return "fresh start (random generator and discriminator, g_ema = generator)"
    }

    /// latent_avg follows g_ema: recomputed (same samples every time) whenever a checkpoint is written.
    public func willCheckpoint(step: Int) throws {
        var rng = Philox(seed: UInt64(context.config.train.seed), SampleKeys.purposeID("latent-avg"))
        try latentAvg.assign(try gEMA.meanLatent(samples: context.config.train.latentAvgSamples, rng: &rng))
    }

    // MARK: latents

    /// W+ codes with style mixing for the rows `indices`: z1, z2 ~ N(0, I) per row; with
    /// probability `mixing` the row takes w1 = G.mapping(z1) for the first k slots (k uniform
    /// in 1 ..< n_latent) and w2 for the rest, otherwise w1 everywhere.
    ///   -> latents [B, n_latent, style_dim] (differentiable through the mapping network)
    func mixedLatents(_ g: Generator, _ indices: [Int], step: Int, purpose: String) throws -> Tensor {
        let s = g.config.styleDim, n = g.config.nLatent, b = indices.count
        var rngs = SampleKeys.rngs(seed: UInt64(context.config.train.seed), purpose: purpose, step: step, globalIndices: indices)
        let z1 = Tensor(zeros: [b, s]), z2 = Tensor(zeros: [b, s])
        let first = Tensor(zeros: [b, n, s]), second = Tensor(zeros: [b, n, s])   // 0/1 masks of the slots
        for i in 0..<b {
            for j in 0..<s { z1.ptr[i * s + j] = rngs[i].normal() }
            for j in 0..<s { z2.ptr[i * s + j] = rngs[i].normal() }
            let mix = n > 1 && rngs[i].uniform() < gan.mixing
            let cut = mix ? 1 + rngs[i].int(below: n - 1) : n
            for k in 0..<n { for j in 0..<s { (k < cut ? first : second).ptr[(i * n + k) * s + j] = 1 } }
        }
        let w1 = try reshape(try g.mapping(z1), [b, 1, s])                              // [B, 1, S]
        let w2 = try reshape(try g.mapping(z2), [b, 1, s])
        return try add(try mul(first, w1), try mul(second, w2))                         // [B, n_latent, S]
    }

    /// Fresh noise inputs for the rows `indices` (one stream per sample).
    func noise(_ g: Generator, _ indices: [Int], step: Int, purpose: String) -> [Tensor] {
        var rngs = SampleKeys.rngs(seed: UInt64(context.config.train.seed), purpose: purpose, step: step, globalIndices: indices)
        return g.randomNoise(rngs: &rngs)
    }

    /// log(1 + e^x) = relu(x) + log(1 + e^−|x|), stable for every x. Same shape.
    func softplus(_ x: Tensor) throws -> Tensor {
        try add(relu(x), log(addScalar(exp(neg(abs(x))), 1)))
    }

    // MARK: step

    public func trainStep(_ b: Batch, step: Int) throws -> [LossTerm: Double] {
        var out: [LossTerm: Double] = [:]
        let x = b.images, guardian = context.guardian                                  // x [B, 3, H, W] in [-1, 1]
        let lr = context.schedule.lr(at: step), lrG = lr * ratioG, lrD = lr * ratioD
        let d = discriminator

        // D step: the fakes are constants (no generator gradient).
        let fake = try Autograd.noGrad {
            try generator(try mixedLatents(generator, b.indices, step: step, purpose: "d-latents"),
                          noise: noise(generator, b.indices, step: step, purpose: "d-noise")).image   // [B, 3, H, W]
        }
        flatD.zeroGrad()
        let realPred = try d(x), fakePred = try d(fake)                                   // [B, 1]
        var lossD = try add(meanAll(try softplus(neg(realPred))), meanAll(try softplus(fakePred)))
        lossD = try guardian.inject(lossD, step: step)
        out[.lossD] = Double(lossD.item)
        out[.realScore] = Double(meanAll(realPred).item)
        out[.fakeScore] = Double(meanAll(fakePred).item)
        try dpD.backward(lossD)
        try guardian.update(flatD, localLoss: out[.lossD]!, step: step, what: "discriminator update") { try optD.step(lr: lrD) }

        // Lazy R1 on the reals: the gradient of D with respect to its input, differentiated again.
        if gan.r1 > 0 && step % gan.r1Every == 0 {
            let xr = x.copy()
            xr.requiresGrad = true
            flatD.zeroGrad()
            let pred = try d(xr)                                                          // [B, 1]
            let gradReal = try Autograd.grad(of: [sumAll(pred)], wrt: [xr], createGraph: true)[0]   // [B, 3, H, W]
            let r1 = meanAll(try sum(square(try reshape(gradReal, [xr.dim(0), -1])), axes: [1]))   // []
            let localR1 = Double(r1.item)
            try dpD.backward(scale(r1, gan.r1 / 2 * Float(gan.r1Every)))
            try guardian.update(flatD, localLoss: localR1, step: step, what: "discriminator R1 update") { try optD.step(lr: lrD) }
            // The logged value is the ranks' mean, so the buffer is the same on every rank (and after a resume).
            var v = [localR1]
            try v.withUnsafeMutableBufferPointer { try context.comm.allReduce($0.baseAddress!, count: 1) }
            lastPenalties.ptr[0] = Float(v[0] / Double(context.comm.worldSize))
        }

        // G step: non-saturating loss through a frozen D (its parameters take no gradient).
        flatG.zeroGrad()
        for (_, p) in discriminatorParams { p.requiresGrad = false }
        do {
            // Backward closures read requiresGrad when they run, so it stays off until after backward.
            defer { for (_, p) in discriminatorParams { p.requiresGrad = true } }
            let img = try generator(try mixedLatents(generator, b.indices, step: step, purpose: "g-latents"),
                                    noise: noise(generator, b.indices, step: step, purpose: "g-noise")).image   // [B, 3, H, W]
            var lossG = meanAll(try softplus(neg(try d(img))))
            lossG = try guardian.inject(lossG, step: step)
            out[.lossG] = Double(lossG.item)
            try dpG.backward(lossG)
        }
        try guardian.update(flatG, localLoss: out[.lossG]!, step: step, what: "generator update") { try optG.step(lr: lrG) }

        // Lazy path-length regularisation on a smaller batch (the first rows of this rank's slice).
        if gan.pathWeight > 0 && step % gan.pathEvery == 0 {
            let rows = Array(b.indices.prefix(max(1, b.indices.count / gan.pathBatchShrink)))
            flatG.zeroGrad()
            let latents = try mixedLatents(generator, rows, step: step, purpose: "path-latents")   // [P, n_latent, S]
            let img = try generator(latents, noise: noise(generator, rows, step: step, purpose: "path-noise")).image   // [P, 3, H, W]
            let h = img.dim(2), w = img.dim(3), plane = 3 * h * w
            let imageNoise = Tensor(zeros: img.shape)                                      // n / √(HW)
            var rngs = SampleKeys.rngs(seed: UInt64(context.config.train.seed), purpose: "path-image-noise", step: step, globalIndices: rows)
            let norm = 1 / Float(h * w).squareRoot()
            for i in 0..<rows.count { for j in 0..<plane { imageNoise.ptr[i * plane + j] = rngs[i].normal() * norm } }
            let grad = try Autograd.grad(of: [img], wrt: [latents], seeds: [imageNoise], createGraph: true)[0]   // [P, n_latent, S]
            let lengths = sqrt(try mean(try sum(square(grad), axes: [2]), axes: [1]))    // [P]
            let a = meanPathLength.ptr[0]
            let pathMean = addScalar(scale(addScalar(meanAll(lengths), -a), gan.pathDecay), a)   // a' (with gradient, as rosinality)
            let penalty = meanAll(square(try sub(lengths, pathMean)))                     // []
            let localMean = Double(pathMean.item), localPenalty = Double(penalty.item), localLength = Double(meanAll(lengths).item)
            try dpG.backward(scale(penalty, gan.pathWeight * Float(gan.pathEvery)))
            try guardian.update(flatG, localLoss: localPenalty, step: step, what: "generator path-length update") { try optG.step(lr: lrG) }
            // rosinality keeps a per-GPU running mean; here the ranks' a' are averaged so it stays
            // one value on every rank (and in the checkpoint).
            var v = [localMean, localPenalty, localLength]
            try v.withUnsafeMutableBufferPointer { try context.comm.allReduce($0.baseAddress!, count: 3) }
            let ranks = Double(context.comm.worldSize)
            meanPathLength.ptr[0] = Float(v[0] / ranks)
            lastPenalties.ptr[1] = Float(v[1] / ranks)
            lastPenalties.ptr[2] = Float(v[2] / ranks)
        }

        ema.update()
        if gan.r1 > 0 { out[.r1] = Double(lastPenalties.ptr[0]) }
        if gan.pathWeight > 0 {
            out[.pathPenalty] = Double(lastPenalties.ptr[1])
            out[.pathLength] = Double(lastPenalties.ptr[2])
            out[.meanPathLength] = Double(meanPathLength.ptr[0])
        }
        return out
    }

    // MARK: evaluation

    /// On the evaluation split, on every rank: D's mean logit on the reals and on as many g_ema
    /// samples (fixed z per sample index, stored noise), and the mean-image distance
    /// mean_pixels (mean real image − mean g_ema image)² (a first-moment check: it falls as the
    /// generator learns the data's colours and layout). On rank 0 a PNG of 16 g_ema samples from
    /// fixed latents: `<run>/images/samples-<step>.png`.
    public func evaluate(step: Int) throws -> Evaluation {
        let g = gEMA.config, seed = UInt64(context.config.train.seed)
        let plane = 3 * g.size * g.size
        var sums = [Double](repeating: 0, count: 3 + 2 * plane)   // real score, fake score, images, mean real, mean fake
        try context.evalLoader.forEachBatchOfEpoch { b in
            let x = b.images                                                             // [B, 3, H, W]
            let z = Tensor(zeros: [b.indices.count, g.styleDim])
            var rngs = SampleKeys.rngs(seed: seed, purpose: "eval-z", step: 0, globalIndices: b.indices)
            for i in 0..<b.indices.count { for j in 0..<g.styleDim { z.ptr[i * g.styleDim + j] = rngs[i].normal() } }
            let (real, fake, images) = try Autograd.noGrad {
                let f = try gEMA.sample(z).image                                         // [B, 3, H, W]
                return (try discriminator(x), try discriminator(f), f)                    // [B, 1] each
            }
            // Padding rows (repeats) ran through D with the batch but are not counted.
            for i in b.mask.indices where b.mask[i] {
                sums[0] += Double(real.ptr[i])
                sums[1] += Double(fake.ptr[i])
                sums[2] += 1
                for j in 0..<plane {
                    sums[3 + j] += Double(x.ptr[i * plane + j])
                    sums[3 + plane + j] += Double(images.ptr[i * plane + j])
                }
            }
        }
        try sums.withUnsafeMutableBufferPointer { try context.comm.allReduce($0.baseAddress!, count: $0.count) }
        let n = max(sums[2], 1)
        var distance = 0.0
        for j in 0..<plane { let e = (sums[3 + j] - sums[3 + plane + j]) / n; distance += e * e }
        distance /= Double(plane)
        let result: [String: Double] = ["real_score": sums[0] / n, "fake_score": sums[1] / n, "mean_image_mse": distance, "images": sums[2]]

        if context.comm.isRoot {
            let z = Tensor(zeros: [16, g.styleDim])
            for i in 0..<16 {
                var rng = SampleKeys.rng(seed: seed, purpose: "sample-grid", step: 0, globalIndex: i)
                for j in 0..<g.styleDim { z.ptr[i * g.styleDim + j] = rng.normal() }
            }
            let samples = try Autograd.noGrad { try gEMA.sample(z).image }             // [16, 3, H, W]
            let cells = (0..<16).map { rgbImage(samples, index: $0) }
            let dir = (context.runDir as NSString).appendingPathComponent("images")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try writePNG(RGBImage.grid([Array(cells[0..<8]), Array(cells[8..<16])]), path: dir + String(format: "/samples-%08d.png", step))
        }
        var record: [String: Any] = result
        record["split"] = context.config.data.evalSplit
        let line = String(format: "D real %.3f / g_ema fake %.3f, mean-image mse %.4f (%d %@ images)", sums[0] / n, sums[1] / n,
                          distance, Int(n), context.config.data.evalSplit)
        return Evaluation(record: record, summary: "eval step \(step): " + line, headline: line, values: result)
    }

    // MARK: checkpoints

    public func optimizerStates(step: Int) throws -> [OptimizerState] {
        let lr = context.schedule.lr(at: step)
        return [try optimizerState(optG, name: "generator." + optG.name, lr: lr * ratioG),
                try optimizerState(optD, name: "discriminator." + optD.name, lr: lr * ratioD)]
    }

    public func restore(optimizersFrom r: CheckpointReader, ranks: [RankState], sameWorld: Bool, step: Int) throws {
        try restoreOptimizer(optG, from: r, name: "generator." + optG.name)
        try restoreOptimizer(optD, from: r, name: "discriminator." + optD.name)
    }
}
