import Foundation
import Logging

/// The `asit` stage: the ASIT encoder learns to invert faces through a frozen StyleGAN2
/// generator, against the inversion discriminator (reference section 4), data-parallel.
///
/// One step, as the authors' coach orders it, with the intended semantics:
///   D step: ŷ = G(E(x)) without gradients (drop path off); L_D = mean (D(x, x) − 1)² +
///           mean (D(ŷ, x) + 1)²; all-reduce the query network's gradients; optimizer step.
///   E step: ŷ = G(E(x)) with drop path; L_G = l2·MSE + lpips·LPIPS + id·ID + dist·L_dist +
///           adv·mean (D(ŷ, x) − 1)², the adversarial term reaching the encoder through q;
///           all-reduce the encoder's gradients; optimizer step.
/// The key network follows the query by momentum before every discriminator call (twice per D
/// step, once per E step). The generator never changes; the discriminator's parameters take no
/// gradient during the E step. Source features for L_dist come from G(z), z drawn per global
/// sample index, so the whole step is a function of (seed, step, batch): resume is exact.
public final class InversionStage: TrainingStage {
    public static let name = "asit"

    let context: StageContext
    let asit: ASIT
    let lpips: LPIPS?
    let idNet: IRSE50?
    let encoderParams: [NamedTensor]
    let discriminatorParams: [NamedTensor]
    let flatE: FlatBuffer, flatD: FlatBuffer
    let dpE: DataParallel, dpD: DataParallel
    let optE: Optimizer, optD: Optimizer

    public static func data(_ c: RunConfig) throws -> StageData {
        let size = c.model.encoder.imageSize
        let aug = c.data.augment && c.data.flip ? Augmentation(outputSize: size, flip: 0.5) : Augmentation(outputSize: size)
        var d = StageData(imageSize: size, trainAugmentation: aug, evalAugmentation: Augmentation(outputSize: size))
        d.minLocalBatch = 2   // the distribution loss compares samples
        return d
    }

    public init(_ context: StageContext) throws {
        self.context = context
        let c = context.config, comm = context.comm
        asit = try ASIT(c.model)
        asit.resetNetworks(seed: UInt64(c.train.seed))
        asit.freezeDecoder()
        lpips = try InversionStage.perceptual(c.loss.lpips, c.loss.lpipsWeights, "loss.lpips", "lpips", LPIPS(), context)
        idNet = try InversionStage.perceptual(c.loss.id, c.loss.idWeights, "loss.id", "irse50", IRSE50(), context)

        encoderParams = asit.encoder.namedParameters(prefix: "encoder.")
        discriminatorParams = asit.discriminator.modelQ.namedParameters(prefix: "discriminator.model_q.")
        for (k, t) in encoderParams + discriminatorParams { t.name = k }
        flatE = FlatBuffer(encoderParams.map(\.tensor), withGradients: true)
        flatD = FlatBuffer(discriminatorParams.map(\.tensor), withGradients: true)
        let bucket = Int(c.dist.bucketMB * 1_048_576)
        dpE = try DataParallel(flatE, comm: comm, buffers: [], bucketBytes: bucket)
        dpD = try DataParallel(flatD, comm: comm, buffers: asit.discriminator.modelK.buffers.map(\.1), bucketBytes: bucket)
        dpE.requireSync = c.dist.allreduce
        dpD.requireSync = c.dist.allreduce
        optE = try makeOptimizer(flatE, c.optim)
        optD = try makeOptimizer(flatD, c.optim)
    }

    /// A perceptual network with converted weights, or nil (with a warning) when its weight is 0
    /// or no weights were given: without them the loss would be meaningless.
    static func perceptual<M: Module>(_ weight: Float, _ path: String, _ key: String, _ stage: String, _ build: @autoclosure () -> M,
                                      _ context: StageContext) throws -> M? {
        guard weight > 0 else { return nil }
        guard !path.isEmpty else {
            if context.comm.isRoot { context.log.warning("\(key) = \(weight) but \(key)_weights is empty: that loss is off (convert the pretrained weights with scripts/convert/to_ifer.py \(stage))") }
            return nil
        }
        // Built only when on: IR-SE50 and LPIPS hold ~190 MB of weights between them.
        let net = build()
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: stage)
        try r.loadInto(params: net.namedParameters(), buffers: net.namedBuffers())
        for (_, p) in net.namedParameters() { p.requiresGrad = false }
        return net
    }

    /// The loss terms this run computes (LPIPS and ID need weights, the others a weight > 0).
    public var lossTerms: [LossTerm] {
        var on: [LossTerm] = [.lossD, .lossG, .l2]
        if lpips != nil { on.append(.lpips) }
        if idNet != nil { on.append(.id) }
        if context.config.loss.dist > 0 { on.append(.dist) }
        if context.config.loss.adv > 0 { on.append(.adv) }
        return on
    }

    public var summary: String {
        "encoder \(encoderParams.reduce(0) { $0 + $1.tensor.count }) / discriminator \(discriminatorParams.reduce(0) { $0 + $1.tensor.count }) trainable parameters"
    }
    public var replicas: [DataParallel] { [dpE, dpD] }

    /// Every tensor a checkpoint of this stage holds: encoder, generator, latent_avg, both discriminator branches.
    public var checkpointParams: [NamedTensor] { asit.namedParameters() + discriminatorParams }
    public var checkpointBuffers: [NamedTensor] {
        asit.namedBuffers() + asit.discriminator.modelK.buffers.map { (key: "discriminator.model_k." + $0.0, tensor: $0.1) }
    }
    /// Every draw of this stage is keyed by (seed, step, sample): a rank's RNG state is a placeholder.
    public var rankRNG: [UInt64] { Philox(seed: 0).state }

    /// Rank 0's random weights, the generator (and latent_avg) from `train.generator`, optionally
    /// the encoder from `train.init_encoder`.
    public func freshStart() throws -> String {
        var said: [String] = []
        let c = context.config.train, comm = context.comm
        if !c.generator.isEmpty {
            let r = try CheckpointReader(path: c.generator)
            defer { r.close() }
            let hasAverage = try r.bufferShapes().contains { $0.key == "latent_avg" }
            var buffers = asit.decoder.namedBuffers(prefix: "decoder.")
            if hasAverage { buffers.append((key: "latent_avg", tensor: asit.latentAvg)) }
            try r.loadInto(params: asit.decoder.namedParameters(prefix: "decoder."), buffers: buffers, ignoringOthers: true)
            said.append("generator from \(c.generator)")
            if !hasAverage { try computeLatentAvg() }
        } else {
            if comm.isRoot { context.log.warning("train.generator is empty: inverting through a randomly initialised generator (give a converted StyleGAN2 checkpoint, or train one with the generator stage)") }
            try computeLatentAvg()
        }
        if !c.initEncoder.isEmpty {
            let r = try CheckpointReader(path: c.initEncoder)
            defer { r.close() }
            try r.loadInto(params: encoderParams, ignoringOthers: true)
            said.append("encoder from \(c.initEncoder)")
        }
        // Rank 0's encoder and discriminator for all; the generator and latent_avg are equal on
        // every rank by construction (same seed or same file).
        try dpE.broadcastParameters()
        try dpD.broadcastParameters()
        return said.isEmpty ? "fresh start" : "fresh start; " + said.joined(separator: "; ")
    }

    func computeLatentAvg() throws {
        var rng = Philox(seed: UInt64(context.config.train.seed), SampleKeys.purposeID("latent-avg"))
        try asit.computeLatentAvg(samples: context.config.train.latentAvgSamples, rng: &rng)
    }

    // MARK: step

    public func trainStep(_ b: Batch, step: Int) throws -> [LossTerm: Double] {
        var out: [LossTerm: Double] = [:]
        let x = b.images, lr = context.schedule.lr(at: step), w = context.config.loss, guardian = context.guardian
        let d = asit.discriminator

        // D step: the reconstruction is a constant here.
        var none: [Philox] = []
        let yHat = try Autograd.noGrad { try asit(x, rngs: &none).image }
        flatD.zeroGrad()
        d.momentumUpdate()
        let real = try d(x, x)
        d.momentumUpdate()
        let lossD = try guardian.inject(try InversionLosses.discriminator(real: real, fake: try d(yHat, x)), step: step)
        out[.lossD] = Double(lossD.item)
        try dpD.backward(lossD)
        try guardian.update(flatD, localLoss: out[.lossD]!, step: step, what: "discriminator update") { try optD.step(lr: lr) }

        // E step: drop path keyed per global sample; the discriminator passes gradient but takes none.
        flatE.zeroGrad()
        var rngs = SampleKeys.rngs(seed: UInt64(context.config.train.seed), purpose: "drop-path", step: step, globalIndices: b.indices)
        let inv = try asit(x, rngs: &rngs)
        var terms: [(LossTerm, Float, Tensor)] = [(.l2, w.l2, try mseLoss(inv.image, x))]
        if let lpips { terms.append((.lpips, w.lpips, try lpips(inv.image, x))) }
        if let idNet { terms.append((.id, w.id, try InversionLosses.identity(idNet, inv.image, x))) }
        if w.dist > 0 { terms.append((.dist, w.dist, try InversionLosses.distribution(source: try sourceFeatures(b.indices, step: step), target: inv.encoderFeatures))) }
        // Backward closures read requiresGrad when they run, so it stays off until after backward.
        for (_, p) in discriminatorParams { p.requiresGrad = false }
        defer { for (_, p) in discriminatorParams { p.requiresGrad = true } }
        if w.adv > 0 {
            d.momentumUpdate()
            terms.append((.adv, w.adv, InversionLosses.adversarial(try d(inv.image, x))))
        }
        var lossG = scale(terms[0].2, terms[0].1)
        out[terms[0].0] = Double(terms[0].2.item)
        for (term, weight, t) in terms.dropFirst() {
            out[term] = Double(t.item)
            lossG = try add(lossG, scale(t, weight))
        }
        lossG = try guardian.inject(lossG, step: step)
        out[.lossG] = Double(lossG.item)
        try dpE.backward(lossG)
        try guardian.update(flatE, localLoss: out[.lossG]!, step: step, what: "encoder update") {
            if context.config.optim.clipGrad > 0 { try clipGradNorm(flatE, maxNorm: context.config.optim.clipGrad) }
            try optE.step(lr: lr)
        }
        return out
    }

    /// Generator features of random samples at the resolutions the encoder's feature branches
    /// have, one z per row drawn from the row's global sample index and the step.
    func sourceFeatures(_ indices: [Int], step: Int) throws -> [Tensor] {
        let g = asit.decoder.config
        var rngs = SampleKeys.rngs(seed: UInt64(context.config.train.seed), purpose: "dist-z", step: step, globalIndices: indices)
        let z = Tensor(zeros: [indices.count, g.styleDim])
        for i in 0..<indices.count { for j in 0..<g.styleDim { z.ptr[i * g.styleDim + j] = rngs[i].normal() } }
        let feats = try Autograd.noGrad { try asit.decoder.sample(z).features }
        return try g.featureResolutions.map { r in
            guard let f = feats[r] else { throw ConfigError.badValue(path: "model.generator.feature_resolutions", detail: "the generator has no \(r)x\(r) features") }
            return f
        }
    }

    // MARK: evaluation

    /// Validation loss (L2, and LPIPS / ID when on; the authors' best-model criterion) over the
    /// evaluation split on every rank, and on rank 0 a PNG of the first eight sources above their
    /// reconstructions: `<run>/images/step-<step>.png`.
    public func evaluate(step: Int) throws -> Evaluation {
        var sums = [Double](repeating: 0, count: 4)   // l2, lpips, id, images
        var grid: [(RGBImage, RGBImage)] = []
        var none: [Philox] = []
        try context.evalLoader.forEachBatchOfEpoch { b in
            let rows = b.mask.indices.filter { b.mask[$0] }          // padding rows repeat samples: left out
            let keep = rows.count
            guard keep > 0 else { return }
            let x = keep == b.mask.count ? b.images : try indexSelect(b.images, axis: 0, indices: rows)
            let y = try Autograd.noGrad { try asit(x, rngs: &none).image }
            let k = Double(keep)
            sums[0] += Double(try mseLoss(y, x).item) * k
            if let lpips { sums[1] += Double(try Autograd.noGrad { try lpips(y, x) }.item) * k }
            if let idNet { sums[2] += Double(try Autograd.noGrad { try InversionLosses.identity(idNet, y, x) }.item) * k }
            sums[3] += k
            for i in 0..<keep where grid.count < 8 { grid.append((rgbImage(x, index: i), rgbImage(y, index: i))) }
        }
        try sums.withUnsafeMutableBufferPointer { try context.comm.allReduce($0.baseAddress!, count: $0.count) }
        let n = max(sums[3], 1)
        var result: [String: Double] = ["l2": sums[0] / n, "images": sums[3]]
        if lpips != nil { result["lpips"] = sums[1] / n }
        if idNet != nil { result["id"] = sums[2] / n }
        let valLoss = sums[0] / n + (result["lpips"] ?? 0) + (result["id"] ?? 0)
        result["val_loss"] = valLoss
        if context.comm.isRoot && !grid.isEmpty {
            let dir = (context.runDir as NSString).appendingPathComponent("images")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try writePNG(RGBImage.grid([grid.map(\.0), grid.map(\.1)]), path: dir + String(format: "/step-%08d.png", step))
        }
        var record: [String: Any] = result
        record["split"] = context.config.data.evalSplit
        return Evaluation(record: record,
                          summary: String(format: "eval step %d: val_loss %.4f (l2 %.4f) on %d %@ images", step,
                                          valLoss, sums[0] / n, Int(n), context.config.data.evalSplit),
                          headline: String(format: "validation loss: %.4f (l2 %.4f, %d %@ images)", valLoss, sums[0] / n, Int(n),
                                           context.config.data.evalSplit),
                          values: result)
    }

    // MARK: checkpoints

    public func optimizerStates(step: Int) throws -> [OptimizerState] {
        let lr = context.schedule.lr(at: step)
        return [try optimizerState(optE, name: "encoder." + optE.name, lr: lr),
                try optimizerState(optD, name: "discriminator." + optD.name, lr: lr)]
    }

    public func restore(optimizersFrom r: CheckpointReader, ranks: [RankState], sameWorld: Bool, step: Int) throws {
        try restoreOptimizer(optE, from: r, name: "encoder." + optE.name)
        try restoreOptimizer(optD, from: r, name: "discriminator." + optD.name)
    }
}
