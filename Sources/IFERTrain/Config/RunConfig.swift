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

    public var data: Data
    public var train: Train
    public var optim: Optim
    public var loss: Loss
    public var dist: Dist
    public var checkpoint: Checkpoint
    public var log: Log
    /// The resolved tree (file + overrides); `model` is decoded by IFERModels from it.
    public var tree: ConfigValue
    public var source: String

    public static let sections = ["model", "data", "train", "optim", "loss", "dist", "checkpoint", "log"]

    /// Loads `file`, applies `overrides` ("a.b=value"), and validates every section.
    public static func load(file: String, overrides: [String] = []) throws -> RunConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError.syntax(file: file, detail: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, source: file, overrides: overrides)
    }

    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> RunConfig {
        var tree = try ConfigValue.parse(text, source: source)
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else { throw ConfigError.badOverride(o) }
            let path = o[..<eq].split(separator: ".").map(String.init)
            let value = try ConfigValue.parse(String(o[o.index(after: eq)...]), source: "--set \(o)")
            guard let top = path.first, sections.contains(top) else {
                throw ConfigError.unknownKey(path: String(o[..<eq]), allowed: sections)
            }
            tree.set(path, value.isEmptyMap ? .scalar("") : value)
        }
        return try RunConfig(tree: tree, source: source)
    }

    init(tree: ConfigValue, source: String) throws {
        self.tree = tree
        self.source = source
        let top = try SectionReader(tree, path: "")
        for s in RunConfig.sections { _ = top.raw(s) }
        try top.finish()

        let d = try SectionReader(tree["data"], path: "data")
        data = Data(shards: try d.string("shards", ""), augment: try d.bool("augment", true),
                    flip: try d.bool("flip", true), cropScaleMin: try d.float("crop_scale_min", 0.8),
                    erasing: try d.float("erasing", 0.25), evalSplit: try d.string("eval_split", "test"),
                    evalCrop: try d.float("eval_crop", 1), prefetch: try d.int("prefetch", 2))
        try d.finish()

        let t = try SectionReader(tree["train"], path: "train")
        train = Train(stage: try t.choice("stage", "ifer", ["ifer", "asit", "generator"]),
                      steps: try t.int("steps", 1000), batchSize: try t.int("batch_size", 32),
                      microBatches: try t.int("micro_batches", 1), seed: try t.int("seed", 0),
                      stopAfter: try t.int("stop_after", 0), evalEvery: try t.int("eval_every", 0),
                      initEncoder: try t.string("init_encoder", ""), generator: try t.string("generator", ""),
                      latentAvgSamples: try t.int("latent_avg_samples", 10_000))
        try t.finish()

        let o = try SectionReader(tree["optim"], path: "optim")
        optim = Optim(name: try o.choice("name", "adamw", ["adamw", "adam", "sgd", "ranger"]),
                      lr: try o.float("lr", 1e-3), weightDecay: try o.float("weight_decay", 0.05),
                      betas: try o.floats("betas", [0.9, 0.999]), eps: try o.float("eps", 1e-8),
                      momentum: try o.float("momentum", 0.9), nesterov: try o.bool("nesterov", false),
                      schedule: try o.choice("schedule", "cosine", ["cosine", "step", "constant"]),
                      warmupSteps: try o.int("warmup_steps", 0), warmupLR: try o.float("warmup_lr", 1e-6),
                      minLR: try o.float("min_lr", 1e-6), milestones: try o.ints("milestones", []),
                      gamma: try o.float("gamma", 0.1), clipGrad: try o.float("clip_grad", 0))
        try o.finish()

        let l = try SectionReader(tree["loss"], path: "loss")
        loss = Loss(labelSmoothing: try l.float("label_smoothing", 0.1), mixupAlpha: try l.float("mixup_alpha", 0),
                    cutmixAlpha: try l.float("cutmix_alpha", 0), mixupProb: try l.float("mixup_prob", 1),
                    switchProb: try l.float("switch_prob", 0.5), l2: try l.float("l2", 1), lpips: try l.float("lpips", 0.8),
                    id: try l.float("id", 0.1), dist: try l.float("dist", 0.01), adv: try l.float("adv", 1e-4),
                    lpipsWeights: try l.string("lpips_weights", ""), idWeights: try l.string("id_weights", ""))
        try l.finish()

        let ds = try SectionReader(tree["dist"], path: "dist")
        dist = Dist(bucketMB: try ds.float("bucket_mb", 1), replicaCheckEvery: try ds.int("replica_check_every", 100),
                    timeoutSeconds: try ds.float("timeout_s", 300), allreduce: try ds.bool("allreduce", true))
        try ds.finish()

        let c = try SectionReader(tree["checkpoint"], path: "checkpoint")
        checkpoint = Checkpoint(every: try c.int("every", 500), keep: try c.int("keep", 3))
        try c.finish()

        let lg = try SectionReader(tree["log"], path: "log")
        log = Log(every: try lg.int("every", 10), bar: try lg.choice("bar", "auto", ["auto", "on", "off"]))
        try lg.finish()

        try validate()
    }

    func validate() throws {
        func need(_ ok: Bool, _ path: String, _ detail: String) throws {
            if !ok { throw ConfigError.badValue(path: path, detail: detail) }
        }
        try need(train.steps > 0, "train.steps", "must be > 0")
        try need(train.batchSize > 0, "train.batch_size", "must be > 0")
        try need(train.microBatches > 0, "train.micro_batches", "must be > 0")
        try need(train.stopAfter >= 0, "train.stop_after", "must be >= 0")
        try need(optim.betas.count == 2, "optim.betas", "needs two values")
        try need(checkpoint.every > 0, "checkpoint.every", "must be > 0")
        try need(checkpoint.keep > 0, "checkpoint.keep", "must be > 0")
        try need(dist.bucketMB > 0, "dist.bucket_mb", "must be > 0")
        try need(data.evalCrop > 0 && data.evalCrop <= 1, "data.eval_crop", "must be in (0, 1]")
    }

    /// The resolved config text stored in checkpoints and run folders.
    public var resolvedYAML: String { tree.yaml() + "\n" }
}

extension ConfigValue {
    var isEmptyMap: Bool { if case let .map(m) = self { return m.isEmpty }; return false }
}

extension RunConfig.Data {
    /// The evaluation transform of the `ifer` stage: the centre `eval_crop` of the image, resampled
    /// to `size` (timm's Resize(size / crop_pct) + CenterCrop(size) on a pre-resized shard).
    public func evalAugmentation(size: Int) -> Augmentation {
        evalCrop < 1 ? Augmentation(outputSize: size, centerCrop: evalCrop) : Augmentation(outputSize: size)
    }
}
