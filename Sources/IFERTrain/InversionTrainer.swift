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
public final class InversionTrainer {
    public let config: RunConfig
    public let comm: Communicator
    public let runDir: String
    let asit: ASIT
    let lpips: LPIPS?
    let idNet: IRSE50?
    let encoderParams: [(String, Tensor)]
    let discriminatorParams: [(String, Tensor)]
    let flatE: FlatBuffer, flatD: FlatBuffer
    let dpE: DataParallel, dpD: DataParallel
    let optE: Optimizer, optD: Optimizer
    let schedule: Schedule
    let trainLoader: Loader
    let evalLoader: Loader
    let log: Logger
    public private(set) var step = 0

    public init(config: RunConfig, comm: Communicator, runDir: String, log: Logger) throws {
        self.config = config
        self.comm = comm
        self.runDir = runDir
        self.log = log
        let c = config
        guard c.train.batchSize % comm.worldSize == 0, c.train.batchSize / comm.worldSize >= 2 else {
            throw ConfigError.badValue(path: "train.batch_size", detail: "global batch \(c.train.batchSize) must give every one of \(comm.worldSize) ranks the same batch of at least 2 (the distribution loss compares samples)")
        }
        guard c.train.microBatches == 1 else {
            throw ConfigError.badValue(path: "train.micro_batches", detail: "the asit stage does not accumulate gradients; use 1")
        }
        asit = try ASIT(try ModelConfig(yaml: c.resolvedYAML))
        asit.resetNetworks(seed: UInt64(c.train.seed))
        asit.freezeDecoder()
        let size = asit.encoder.config.imageSize
        let local = c.train.batchSize / comm.worldSize, seed = UInt64(c.train.seed)
        let aug = c.data.augment && c.data.flip ? Augmentation(outputSize: size, flip: 0.5) : Augmentation(outputSize: size)
        trainLoader = try Loader(path: c.data.shards, split: "train", batchSize: local, seed: seed, rank: comm.rank,
                                 worldSize: comm.worldSize, training: true, augmentation: aug, prefetch: c.data.prefetch)
        evalLoader = try Loader(path: c.data.shards, split: c.data.evalSplit, batchSize: local, seed: seed, rank: comm.rank,
                                worldSize: comm.worldSize, training: false, augmentation: Augmentation(outputSize: size), prefetch: 0)
        lpips = try InversionTrainer.perceptual(c.loss.lpips, c.loss.lpipsWeights, "loss.lpips", "lpips", LPIPS(), log, comm)
        idNet = try InversionTrainer.perceptual(c.loss.id, c.loss.idWeights, "loss.id", "irse50", IRSE50(), log, comm)

        encoderParams = asit.encoder.namedParameters().map { ("encoder." + $0.0, $0.1) }
        discriminatorParams = asit.discriminator.modelQ.namedParameters().map { ("discriminator.model_q." + $0.0, $0.1) }
        for (k, t) in encoderParams + discriminatorParams { t.name = k }
        flatE = FlatBuffer(encoderParams.map(\.1), withGradients: true)
        flatD = FlatBuffer(discriminatorParams.map(\.1), withGradients: true)
        let bucket = Int(c.dist.bucketMB * 1_048_576)
        dpE = try DataParallel(flatE, comm: comm, buffers: [], bucketBytes: bucket)
        dpD = try DataParallel(flatD, comm: comm, buffers: asit.discriminator.modelK.buffers.map(\.1), bucketBytes: bucket)
        dpE.requireSync = c.dist.allreduce
        dpD.requireSync = c.dist.allreduce
        optE = try makeOptimizer(flatE, c.optim)
        optD = try makeOptimizer(flatD, c.optim)
        schedule = makeSchedule(c.optim, totalSteps: c.train.steps)
    }

    /// A perceptual network with converted weights, or nil (with a warning) when its weight is 0
    /// or no weights were given: without them the loss would be meaningless.
    static func perceptual<M: Module>(_ weight: Float, _ path: String, _ key: String, _ stage: String, _ net: M,
                                      _ log: Logger, _ comm: Communicator) throws -> M? {
        guard weight > 0 else { return nil }
        guard !path.isEmpty else {
            if comm.isRoot { log.warning("\(key) = \(weight) but \(key)_weights is empty: that loss is off (convert the pretrained weights with scripts/convert/to_ifer.py \(stage))") }
            return nil
        }
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: stage)
        try r.loadInto(params: net.namedParameters().map { (key: $0.0, tensor: $0.1) },
                       buffers: net.namedBuffers().map { (key: $0.0, tensor: $0.1) })
        for (_, p) in net.namedParameters() { p.requiresGrad = false }
        return net
    }

    /// Every tensor a checkpoint of this stage holds, under its checkpoint key.
    var checkpointParams: [(key: String, tensor: Tensor)] {
        (asit.namedParameters() + discriminatorParams).map { (key: $0.0, tensor: $0.1) }
    }
    var checkpointBuffers: [(key: String, tensor: Tensor)] {
        (asit.namedBuffers() + asit.discriminator.modelK.buffers.map { ("discriminator.model_k." + $0.0, $0.1) })
            .map { (key: $0.0, tensor: $0.1) }
    }

    public var encoderParameterCount: Int { encoderParams.reduce(0) { $0 + $1.1.count } }
    public var discriminatorParameterCount: Int { discriminatorParams.reduce(0) { $0 + $1.1.count } }

    var architecture: String {
        let desc = (checkpointParams + checkpointBuffers).map { "\($0.key)\($0.tensor.shape)" }.joined(separator: ";")
        return "asit-" + String(Module_pathHash(desc), radix: 16)
    }

    // MARK: start

    /// Resumes from a checkpoint if there is one (it holds every network); otherwise: rank 0's
    /// random weights, the generator (and latent_avg) from `train.generator`, optionally the
    /// encoder from `train.init_encoder`. Returns a line describing what was loaded.
    public func prepare(resume: String) throws -> String {
        let decision = try Resume.resolveCollective(resume, runDir: runDir, comm: comm)
        for w in decision.warnings { log.warning("\(w)") }
        if let path = decision.path { return try restore(path) }
        var said: [String] = []
        let c = config.train
        if !c.generator.isEmpty {
            let r = try CheckpointReader(path: c.generator)
            defer { r.close() }
            let hasAverage = try r.bufferShapes().contains { $0.key == "latent_avg" }
            var buffers = asit.decoder.namedBuffers().map { (key: "decoder." + $0.0, tensor: $0.1) }
            if hasAverage { buffers.append((key: "latent_avg", tensor: asit.latentAvg)) }
            try r.loadInto(params: asit.decoder.namedParameters().map { (key: "decoder." + $0.0, tensor: $0.1) },
                           buffers: buffers, ignoringOthers: true)
            said.append("generator from \(c.generator)")
            if !hasAverage { try computeLatentAvg() }
        } else {
            if comm.isRoot { log.warning("train.generator is empty: inverting through a randomly initialised generator (give a converted StyleGAN2 checkpoint for real inversions)") }
            try computeLatentAvg()
        }
        if !c.initEncoder.isEmpty {
            let r = try CheckpointReader(path: c.initEncoder)
            defer { r.close() }
            try r.loadInto(params: encoderParams.map { (key: $0.0, tensor: $0.1) }, ignoringOthers: true)
            said.append("encoder from \(c.initEncoder)")
        }
        // Rank 0's encoder and discriminator for all; the generator and latent_avg are equal on
        // every rank by construction (same seed or same file).
        try dpE.broadcastParameters()
        try dpD.broadcastParameters()
        return said.isEmpty ? "fresh start" : "fresh start; " + said.joined(separator: "; ")
    }

    func computeLatentAvg() throws {
        var rng = Philox(seed: UInt64(config.train.seed), SampleKeys.purposeID("latent-avg"))
        try asit.computeLatentAvg(samples: config.train.latentAvgSamples, rng: &rng)
    }

    func restore(_ path: String) throws -> String {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: "asit", architecture: architecture)
        try r.loadInto(params: checkpointParams, buffers: checkpointBuffers)
        try restoreOptimizer(optE, from: r, name: "encoder." + optE.name)
        try restoreOptimizer(optD, from: r, name: "discriminator." + optD.name)
        step = r.header.step
        let ranks = try r.ranks()
        // Every random draw is keyed by (seed, step, global index), so only the loader cursor
        // matters; the loader re-splits the same global position on another world size.
        try trainLoader.restore(ranks[ranks.count == comm.worldSize ? comm.rank : 0].cursor)
        let other = ranks.count == comm.worldSize ? "" : " on \(comm.worldSize) ranks (saved on \(ranks.count)): loader re-split"
        return "resumed from \(path) at step \(step)" + other
    }

    // MARK: loop

    @discardableResult
    public func run() throws -> [String: Double] {
        let c = config
        let end = c.train.stopAfter > 0 ? min(c.train.steps, step + c.train.stopAfter) : c.train.steps
        let progress = try Progress(total: c.train.steps, runDir: comm.isRoot ? runDir : nil, enabled: comm.isRoot, bar: c.log.bar)
        progress.begin(at: step)
        var seen = 0, t0 = MonotonicClock.now()
        var sums = [Double](repeating: 0, count: StepLosses.names.count + 1)
        while step < end {
            comm.watchdog?.beginStep(step)
            let l = try trainStep()
            for (i, v) in l.values.enumerated() { sums[i] += v }
            sums[sums.count - 1] += 1
            seen += c.train.batchSize
            step += 1
            if step % c.log.every == 0 || step == end {
                try sums.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
                let n = max(sums[sums.count - 1], 1)
                let shown = zip(StepLosses.names, sums).enumerated().filter { activeTerms.contains($0.offset) }.map(\.element)
                progress.step(step, epoch: trainLoader.epoch, losses: shown.map { ($0, $1 / n) },
                              lr: schedule.lr(at: step - 1), imagesPerSecond: Double(seen) / max(MonotonicClock.now() - t0, 1e-9))
                sums = sums.map { _ in 0 }; seen = 0; t0 = MonotonicClock.now()
            }
            if c.dist.allreduce && c.dist.replicaCheckEvery > 0 && step % c.dist.replicaCheckEvery == 0 {
                try dpE.checkReplicas(step: step)
                try dpD.checkReplicas(step: step)
            }
            if c.train.evalEvery > 0 && step % c.train.evalEvery == 0 && step < end { try evaluate(progress) }
            if step % c.checkpoint.every == 0 || step == end { try save() }
        }
        let result = try evaluate(progress)
        progress.finish()
        return result
    }

    /// Slots of StepLosses.names this run computes (LPIPS and ID need weights, the others a weight > 0).
    var activeTerms: Set<Int> {
        var on: Set<Int> = [0, 1, 2]
        if lpips != nil { on.insert(3) }
        if idNet != nil { on.insert(4) }
        if config.loss.dist > 0 { on.insert(5) }
        if config.loss.adv > 0 { on.insert(6) }
        return on
    }

    /// This rank's losses of one step, in `names` order.
    struct StepLosses {
        static let names = ["loss_d", "loss_g", "l2", "lpips", "id", "dist", "adv"]
        var values = [Double](repeating: 0, count: names.count)
    }

    func trainStep() throws -> StepLosses {
        var batch = try trainLoader.next()
        if batch == nil { batch = try trainLoader.next() }  // epoch boundary
        guard let b = batch else {
            throw ConfigError.badValue(path: "train.batch_size", detail: "the training split has fewer samples than one global batch")
        }
        var out = StepLosses()
        let x = b.images, lr = schedule.lr(at: step), w = config.loss
        let d = asit.discriminator

        // D step: the reconstruction is a constant here.
        var none: [Philox] = []
        let yHat = try Autograd.noGrad { try asit(x, rngs: &none).image }
        flatD.zeroGrad()
        d.momentumUpdate()
        let real = try d(x, x)
        d.momentumUpdate()
        let lossD = try InversionLosses.discriminator(real: real, fake: try d(yHat, x))
        out.values[0] = Double(lossD.item)
        try dpD.backward(lossD)
        try optD.step(lr: lr)

        // E step: drop path keyed per global sample; the discriminator passes gradient but takes none.
        flatE.zeroGrad()
        var rngs = SampleKeys.rngs(seed: UInt64(config.train.seed), purpose: "drop-path", step: step, globalIndices: b.indices)
        let inv = try asit(x, rngs: &rngs)
        var terms: [(Int, Float, Tensor)] = [(2, w.l2, try mseLoss(inv.image, x))]
        if let lpips { terms.append((3, w.lpips, try lpips(inv.image, x))) }
        if let idNet { terms.append((4, w.id, try InversionLosses.identity(idNet, inv.image, x))) }
        if w.dist > 0 { terms.append((5, w.dist, try InversionLosses.distribution(source: try sourceFeatures(b.indices), target: inv.encoderFeatures))) }
        // Backward closures read requiresGrad when they run, so it stays off until after backward.
        for (_, p) in discriminatorParams { p.requiresGrad = false }
        defer { for (_, p) in discriminatorParams { p.requiresGrad = true } }
        if w.adv > 0 {
            d.momentumUpdate()
            terms.append((6, w.adv, InversionLosses.adversarial(try d(inv.image, x))))
        }
        var lossG: Tensor?
        for (slot, weight, t) in terms {
            out.values[slot] = Double(t.item)
            let weighted = scale(t, weight)
            lossG = try lossG.map { try add($0, weighted) } ?? weighted
        }
        out.values[1] = Double(lossG!.item)
        try dpE.backward(lossG!)
        if config.optim.clipGrad > 0 { try clipGradNorm(flatE, maxNorm: config.optim.clipGrad) }
        try optE.step(lr: lr)
        return out
    }

    /// Generator features of random samples at the resolutions the encoder's feature branches
    /// have, one z per row drawn from the row's global sample index and the step.
    func sourceFeatures(_ indices: [Int]) throws -> [Tensor] {
        let g = asit.decoder.config
        var rngs = SampleKeys.rngs(seed: UInt64(config.train.seed), purpose: "dist-z", step: step, globalIndices: indices)
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
    @discardableResult
    public func evaluate(_ progress: Progress? = nil) throws -> [String: Double] {
        try evalLoader.restore([0, 0])
        var sums = [Double](repeating: 0, count: 4)   // l2, lpips, id, images
        var grid: [(RGBImage, RGBImage)] = []
        var none: [Philox] = []
        while let b = try evalLoader.next() {
            let rows = b.mask.indices.filter { b.mask[$0] }          // padding rows repeat samples: left out
            let keep = rows.count
            guard keep > 0 else { continue }
            let x = keep == b.mask.count ? b.images : try indexSelect(b.images, axis: 0, indices: rows)
            let y = try Autograd.noGrad { try asit(x, rngs: &none).image }
            let k = Double(keep)
            sums[0] += Double(try mseLoss(y, x).item) * k
            if let lpips { sums[1] += Double(try Autograd.noGrad { try lpips(y, x) }.item) * k }
            if let idNet { sums[2] += Double(try Autograd.noGrad { try InversionLosses.identity(idNet, y, x) }.item) * k }
            sums[3] += k
            for i in 0..<keep where grid.count < 8 { grid.append((rgbImage(x, index: i), rgbImage(y, index: i))) }
        }
        try sums.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
        let n = max(sums[3], 1)
        var result: [String: Double] = ["l2": sums[0] / n, "images": sums[3]]
        if lpips != nil { result["lpips"] = sums[1] / n }
        if idNet != nil { result["id"] = sums[2] / n }
        result["val_loss"] = result["l2"]! + (result["lpips"] ?? 0) + (result["id"] ?? 0)
        if comm.isRoot && !grid.isEmpty {
            let dir = (runDir as NSString).appendingPathComponent("images")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try writePNG(RGBImage.grid([grid.map(\.0), grid.map(\.1)]), path: dir + String(format: "/step-%08d.png", step))
        }
        var record: [String: Any] = result
        record["split"] = config.data.evalSplit
        progress?.eval(step, record,
                       summary: String(format: "eval step %d: val_loss %.4f (l2 %.4f) on %d %@ images", step,
                                       result["val_loss"]!, result["l2"]!, Int(n), config.data.evalSplit))
        return result
    }

    // MARK: checkpoints

    public func save() throws {
        let state = CheckpointState(stage: "asit", step: step, epoch: trainLoader.epoch, worldSize: comm.worldSize,
                                    config: config.resolvedYAML, architecture: architecture,
                                    params: checkpointParams, buffers: checkpointBuffers,
                                    optimizers: [try optimizerState(optE, name: "encoder." + optE.name, lr: schedule.lr(at: step)),
                                                 try optimizerState(optD, name: "discriminator." + optD.name, lr: schedule.lr(at: step))])
        // Every draw of this stage is keyed by (seed, step, sample), so a rank's RNG state is a
        // placeholder; its loader cursor is what resume needs.
        let path = try CheckpointWriter.saveCollective(state, local: RankState(rng: Philox(seed: 0).state, cursor: trainLoader.cursor),
                                                       runDir: runDir, keep: config.checkpoint.keep, comm: comm)
        if comm.isRoot { log.info("checkpoint \(path)") }
    }
}
