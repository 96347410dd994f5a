import Foundation

/// A training run's configuration: one YAML file (sections model, data, train, optim, loss, dist,
/// checkpoint, log), plus `--set key.path=value` overrides. Every key and its default is read in
/// exactly one place below; an unknown key or a wrong type is an error naming the key path.
public struct RunConfig {
    public struct Data {
        public var shards: String          // folder holding manifest.json
        public var augment: Bool           // false turns every random augmentation off (mixup/cutmix too)
        public var flip: Bool
        public var cropScaleMin: Float     // RandomResizedCrop scale lower bound
        public var erasing: Float          // random-erasing probability
        public var randAugment: RandAugment?   // ifer stage: timm RandAugment ("rand-m9-mstd0.5-inc1"), nil for "none"
        public var evalSplit: String
        public var evalCrop: Float         // ifer stage: centre crop fraction at evaluation (timm crop_pct; 1 = none)
        public var prefetch: Int
    }
    public struct Train {
        public var stage: String           // ifer | asit | generator
        public var steps: Int              // total optimizer steps (the schedule follows this)
        public var batchSize: Int          // global batch, split over ranks
        public var microBatches: Int       // gradient accumulation steps per optimizer step
        public var seed: Int
        public var stopAfter: Int          // end this run after this many steps (0: run to `steps`)
        public var evalEvery: Int
        public var initEncoder: String     // ASIT checkpoint to initialise `encoder.*` from ("" = none)
        public var generator: String       // asit stage: checkpoint holding decoder.* (+ latent_avg) ("" = random, warned)
        public var latentAvgSamples: Int   // asit stage: mapping samples for latent_avg when the generator has none
        public var onNonFinite: StepGuard.Policy   // stop | skip: what a non-finite gradient does (StepGuard)
        public var maxSkippedSteps: Int    // skip policy: this many skipped steps in a row stop the run
    }
    public struct Optim {
        public var name: String
        public var lr: Float
        public var weightDecay: Float
        public var betas: [Float]
        public var eps: Float
        public var momentum: Float
        public var nesterov: Bool
        public var schedule: String
        public var warmupSteps: Int
        public var warmupLR: Float
        public var minLR: Float
        public var milestones: [Int]
        public var gamma: Float
        public var clipGrad: Float         // max global gradient norm (0 = off)
    }
    public struct Loss {
        public var labelSmoothing: Float
        public var mixupAlpha: Float
        public var cutmixAlpha: Float
        public var mixupProb: Float
        public var switchProb: Float
        // asit stage (reference section 4; README weights): L_G = l2·L2 + lpips·LPIPS + id·ID +
        // dist·L_dist + adv·L_adv. LPIPS and ID need converted weights; without them they are off.
        public var l2: Float
        public var lpips: Float
        public var id: Float
        public var dist: Float
        public var adv: Float
        public var lpipsWeights: String    // checkpoint of stage lpips (scripts/convert/to_ifer.py lpips)
        public var idWeights: String       // checkpoint of stage irse50
    }
    /// The `generator` stage (rosinality train.py's arguments): StyleGAN2 from scratch.
    public struct GAN {
        public var r1: Float               // R1 weight gamma (penalty gamma/2 · E||∇D(x)||² on reals)
        public var r1Every: Int            // lazy R1: every this many steps (d_reg_every)
        public var pathWeight: Float       // path-length regularisation weight (path_regularize)
        public var pathEvery: Int          // lazy path length: every this many steps (g_reg_every)
        public var pathBatchShrink: Int    // the path-length batch is the local batch / this
        public var pathDecay: Float        // running mean of path lengths: a += decay · (mean − a)
        public var mixing: Float           // style-mixing probability (per sample)
        public var emaKimg: Float          // g_ema half-life in thousands of images: beta = 0.5^(batch / (1000 · ema_kimg))
    }
    public struct Dist {
        public var bucketMB: Float
        public var replicaCheckEvery: Int
        public var timeoutSeconds: Float
        /// false skips the gradient all-reduce: only for measuring exposed communication time
        /// (replicas diverge, so the replica check is then off).
        public var allreduce: Bool
    }
    public struct Checkpoint {
        public var every: Int
        public var keep: Int
    }
    public struct Log {
        public var every: Int
        public var bar: String
    }

    public var model: ModelConfig
    public var data: Data
    public var train: Train
    public var optim: Optim
    public var loss: Loss
    public var gan: GAN
    public var dist: Dist
    public var checkpoint: Checkpoint
    public var log: Log
    /// The resolved tree (file + overrides), exactly what `resolvedYAML` writes.
    public var tree: ConfigValue
    public var source: String

    public static let sections = ["model", "data", "train", "optim", "loss", "gan", "dist", "checkpoint", "log"]

    /// Loads `file`, applies `overrides` ("a.b=value"), and validates every section.
    public static func load(file: String, overrides: [String] = []) throws -> RunConfig {
        try parse(try ConfigValue.read(file: file), source: file, overrides: overrides)
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> RunConfig {
        var tree = try ConfigValue.parse(text, source: source)
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw ConfigError.badOverride(o) }
            let path = o[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else { throw ConfigError.badOverride(o) }
            let value = try ConfigValue.parse(String(o[o.index(after: eq)...]), source: "--set \(o)")
            guard let top = path.first, sections.contains(top) else {
                throw ConfigError.unknownKey(path: String(o[..<eq]), allowed: sections)
            }
            tree.set(path, value.isEmptyMap ? .scalar("") : value)
        }
        return try RunConfig(tree: tree, source: source)
    }

    /// Every key, its default and its range, in one place: a value outside its range is refused
    /// before anything runs, naming its key path.
    init(tree: ConfigValue, source: String) throws {
        self.tree = tree
        self.source = source
        let top = try ConfigSection(tree, path: "")
        try top.expectKeys(RunConfig.sections)
        model = try ModelConfig(root: top)
        let any = Int.max, anyF = Float.greatestFiniteMagnitude
        let unit: ClosedRange<Float> = 0...1

        let d = try top.section("data")
        data = Data(shards: try d.string("shards", default: ""), augment: try d.bool("augment", default: true),
                    flip: try d.bool("flip", default: true), cropScaleMin: try d.float("crop_scale_min", default: 0.8, in: 0.01...1),
                    erasing: try d.float("erasing", default: 0.25, in: unit),
                    randAugment: try RunConfig.Data.randAugment(try d.string("randaugment", default: "none"), path: "data.randaugment"),
                    evalSplit: try d.string("eval_split", default: "test"),
                    evalCrop: try d.float("eval_crop", default: 1, in: 0.01...1), prefetch: try d.int("prefetch", default: 2, in: 0...64))
        try d.finish()

        let t = try top.section("train")
        train = Train(stage: try t.choice("stage", StageTable.names, default: "ifer"),
                      steps: try t.int("steps", default: 1000, in: 1...any), batchSize: try t.int("batch_size", default: 32, in: 1...any),
                      microBatches: try t.int("micro_batches", default: 1, in: 1...any), seed: try t.int("seed", default: 0, in: 0...any),
                      stopAfter: try t.int("stop_after", default: 0, in: 0...any), evalEvery: try t.int("eval_every", default: 0, in: 0...any),
                      initEncoder: try t.string("init_encoder", default: ""), generator: try t.string("generator", default: ""),
                      latentAvgSamples: try t.int("latent_avg_samples", default: 10_000, in: 1...10_000_000),
                      onNonFinite: StepGuard.Policy(rawValue: try t.choice("on_nonfinite", StepGuard.Policy.allCases.map(\.rawValue), default: "stop")) ?? .stop,
                      maxSkippedSteps: try t.int("max_skipped_steps", default: 10, in: 0...any))
        try t.finish()

        let o = try top.section("optim")
        optim = Optim(name: try o.choice("name", ["adamw", "adam", "sgd", "ranger"], default: "adamw"),
                      lr: try o.float("lr", default: 1e-3, in: 0...anyF), weightDecay: try o.float("weight_decay", default: 0.05, in: 0...anyF),
                      betas: try o.floatList("betas", default: [0.9, 0.999], in: 0...0.999_999), eps: try o.float("eps", default: 1e-8, in: 0...anyF),
                      momentum: try o.float("momentum", default: 0.9, in: unit), nesterov: try o.bool("nesterov", default: false),
                      schedule: try o.choice("schedule", ["cosine", "step", "constant"], default: "cosine"),
                      warmupSteps: try o.int("warmup_steps", default: 0, in: 0...any), warmupLR: try o.float("warmup_lr", default: 1e-6, in: 0...anyF),
                      minLR: try o.float("min_lr", default: 1e-6, in: 0...anyF), milestones: try o.intList("milestones", default: [], in: 0...any),
                      gamma: try o.float("gamma", default: 0.1, in: 0...anyF), clipGrad: try o.float("clip_grad", default: 0, in: 0...anyF))
        try o.require(optim.betas.count == 2, "betas", "needs two values")
        try o.finish()

        let l = try top.section("loss")
        loss = Loss(labelSmoothing: try l.float("label_smoothing", default: 0.1, in: unit), mixupAlpha: try l.float("mixup_alpha", default: 0, in: 0...anyF),
                    cutmixAlpha: try l.float("cutmix_alpha", default: 0, in: 0...anyF), mixupProb: try l.float("mixup_prob", default: 1, in: unit),
                    switchProb: try l.float("switch_prob", default: 0.5, in: unit), l2: try l.float("l2", default: 1, in: 0...anyF),
                    lpips: try l.float("lpips", default: 0.8, in: 0...anyF), id: try l.float("id", default: 0.1, in: 0...anyF),
                    dist: try l.float("dist", default: 0.01, in: 0...anyF), adv: try l.float("adv", default: 1e-4, in: 0...anyF),
                    lpipsWeights: try l.string("lpips_weights", default: ""), idWeights: try l.string("id_weights", default: ""))
        try l.finish()

        let gn = try top.section("gan")
        gan = GAN(r1: try gn.float("r1", default: 10, in: 0...anyF), r1Every: try gn.int("r1_every", default: 16, in: 1...any),
                  pathWeight: try gn.float("path_weight", default: 2, in: 0...anyF), pathEvery: try gn.int("path_every", default: 4, in: 1...any),
                  pathBatchShrink: try gn.int("path_batch_shrink", default: 2, in: 1...any),
                  pathDecay: try gn.float("path_decay", default: 0.01, in: unit), mixing: try gn.float("mixing", default: 0.9, in: unit),
                  emaKimg: try gn.float("ema_kimg", default: 10, in: 0.000_001...anyF))
        try gn.finish()

        let ds = try top.section("dist")
        dist = Dist(bucketMB: try ds.float("bucket_mb", default: 1, in: 0.001...4096),
                    replicaCheckEvery: try ds.int("replica_check_every", default: 100, in: 0...any),
                    timeoutSeconds: try ds.float("timeout_s", default: 300, in: 0...anyF), allreduce: try ds.bool("allreduce", default: true))
        try ds.finish()

        let c = try top.section("checkpoint")
        checkpoint = Checkpoint(every: try c.int("every", default: 500, in: 1...any), keep: try c.int("keep", default: 3, in: 1...any))
        try c.finish()

        let lg = try top.section("log")
        log = Log(every: try lg.int("every", default: 10, in: 1...any), bar: try lg.choice("bar", ["auto", "on", "off"], default: "auto"))
        try lg.finish()
    }

    /// The resolved config text stored in checkpoints and run folders.
    public var resolvedYAML: String { tree.yaml() + "\n" }
}

extension RunConfig.Data {
    /// "none" or timm's RandAugment string; the fill is the normalisation mean (0.5) as bytes.
    static func randAugment(_ spec: String, path: String) throws -> RandAugment? {
        if spec == "none" { return nil }
        do {
            return try RandAugment(spec: spec)
        } catch let e as DataError {
            throw ConfigError.badValue(path: path, detail: "\(e)")
        }
    }

    /// The evaluation transform of the `ifer` stage: the centre `eval_crop` of the image, resampled
    /// to `size` (timm's Resize(size / crop_pct) + CenterCrop(size) on a pre-resized shard).
    public func evalAugmentation(size: Int) -> Augmentation {
        evalCrop < 1 ? Augmentation(outputSize: size, centerCrop: evalCrop) : Augmentation(outputSize: size)
    }
}
