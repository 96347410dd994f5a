import Foundation
import Logging
import IFERTrain

/// `ifer bench memory --config FILE [--checkpointing none|encoder_blocks|generator|all]`: peak
/// memory of training against what we expect, one JSON line.
///
/// An `asit` run config: the stage's own training step (`InversionStage.trainStep`: D step, E
/// step), built as `ifer train` builds it on a small synthetic shard set (like `ifer bench step`),
/// on one fixed batch. One warm-up step allocates everything that persists (gradients, optimiser
/// state); then `steps` steps are timed while the live tensor storage peak is tracked.
///   analytic sum = parameters and buffers + gradients (flat buffers) + optimiser state
///                  + activations: the tape's bytes when backward starts (largest over the D and
///                  E backward) + with checkpointing, the largest sub-tape one recompute holds.
///   peak_live_mb: high-water mark of tensor storage (`Storage.live`, which holds all of the
///   above, plus what the sum leaves out: the batch, op workspaces kept by backward closures,
///   activation gradients in flight); rss_max_mb: the process's ru_maxrss (everything, the
///   allocator's slack and the libraries included). Run one case per process for ru_maxrss to
///   mean that case (scripts/bench/memory_paper.sh does).
///
/// Any other config: the IFER classifier's forward and backward at `batch` (the original report:
/// parameters + gradients + the activations the tape keeps).
public enum MemoryBench {
    public static func run(configFile: String, batch: Int, checkpointing: String? = nil, overrides: [String] = [],
                           steps: Int = 2) throws {
        var all = overrides
        if let checkpointing { all.append("model.activation_checkpointing=\(checkpointing)") }
        let probe = try RunConfig.load(file: configFile, overrides: all)
        if probe.train.stage == InversionStage.name {
            try runStage(configFile: configFile, overrides: all, batch: batch, steps: steps)
        } else {
            try runClassifier(configFile: configFile, model: probe.model, batch: batch)
        }
    }

    /// The process's peak resident set (ru_maxrss, kB on Linux) in MB.
    static func maxRSSMB() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) * 1024 / 1e6
    }

    static func runStage(configFile: String, overrides: [String], batch: Int, steps: Int) throws {
        let bench = try BenchStage(name: "memory", configFile: configFile, overrides: overrides, batch: batch, images: 16)
        defer { bench.remove() }
        let config = bench.config, driver = bench.driver, fixed = bench.fixed
        let stage = driver.stage

        // Warm-up: gradients and optimiser state exist from here on.
        let warm = try measureSeconds { _ = try stage.trainStep(fixed, step: 0) }
        let baseline = Storage.live.bytes
        Storage.live.resetPeak()
        Autograd.resetRecomputePeak()
        Autograd.measuresTape = true
        var times: [Double] = []
        for s in 0..<max(steps, 1) {
            times.append(try measureSeconds { _ = try stage.trainStep(fixed, step: s + 1) })
        }
        Autograd.measuresTape = false
        let peak = Storage.live.peak
        let rss = maxRSSMB()

        let paramFloats = (stage.checkpointParams + stage.checkpointBuffers).reduce(0) { $0 + $1.tensor.count }
        let gradFloats = stage.replicas.reduce(0) { $0 + $1.flat.count }
        // One state array the size of each trained flat buffer per key (IFEROptim: Adam
        // exp_avg and exp_avg_sq, Ranger those and slow_buffer, SGD momentum_buffer if any).
        let o = config.optim
        let statesPerFloat = o.name == "sgd" ? (o.momentum > 0 ? 1 : 0) : o.name.hasPrefix("adam") ? 2 : 3
        let optFloats = statesPerFloat * gradFloats
        let tape = Autograd.backwardTapeBytesPeak, sub = Autograd.recomputeTapeBytesPeak
        let analytic = 4 * (paramFloats + gradFloats + optFloats) + tape + sub
        func mb(_ b: Int) -> Double { Double(b) / 1e6 }
        emitJSON(["bench": "memory", "config": configFile, "stage": config.train.stage, "batch": batch,
                  "checkpointing": config.model.activationCheckpointing.rawValue,
                  "param_mb": mb(4 * paramFloats), "grad_mb": mb(4 * gradFloats), "optimizer_mb": mb(4 * optFloats),
                  "tape_activation_mb": mb(tape), "recompute_tape_mb": mb(sub),
                  "analytic_mb": mb(analytic), "baseline_live_mb": mb(baseline), "peak_live_mb": mb(peak),
                  "peak_over_analytic": Double(peak) / Double(max(analytic, 1)),
                  "rss_max_mb": rss, "rss_over_analytic": rss / max(mb(analytic), 1e-9),
                  "warmup_step_s": warm, "step_s": median(times), "steps": times.count])
    }

    static func runClassifier(configFile: String, model mc: ModelConfig, batch: Int) throws {
        let model = try IferClassifier(mc)
        model.resetAll(seed: 0)
        let params = model.namedParameters()
        let flat = FlatBuffer(params.map(\.1), withGradients: true)
        let size = mc.encoder.imageSize
        var rng = Philox(seed: 3)
        let x = Tensor(zeros: [batch, 3, size, size])
        x.fillUniform(&rng, low: -1, high: 1)
        let start = Storage.live.bytes
        Storage.live.resetPeak()
        Autograd.resetRecomputePeak()
        Autograd.measuresTape = true
        defer { Autograd.measuresTape = false }
        let t0 = MonotonicClock.now()
        var rngs = SampleKeys.rngs(seed: 0, purpose: "drop-path", step: 0, globalIndices: Array(0..<batch))
        let logits = try model.forward(x, rngs: &rngs)
        let loss = try crossEntropy(logits, labels: Array(repeating: 0, count: batch), labelSmoothing: 0.1)
        let afterForward = Storage.live.bytes
        try loss.backward()
        let seconds = MonotonicClock.now() - t0
        let tape = Autograd.backwardTapeBytesPeak, sub = Autograd.recomputeTapeBytesPeak
        let paramBytes = flat.count * 4
        emitJSON(["bench": "memory", "config": configFile, "batch": batch, "params": model.parameterCount,
                  "checkpointing": mc.activationCheckpointing.rawValue,
                  "param_mb": Double(paramBytes) / 1e6, "grad_mb": Double(paramBytes) / 1e6,
                  "tape_activation_mb": Double(tape) / 1e6, "recompute_tape_mb": Double(sub) / 1e6,
                  "expected_peak_mb": Double(2 * paramBytes + tape + sub) / 1e6,
                  "baseline_mb": Double(start) / 1e6, "after_forward_mb": Double(afterForward) / 1e6,
                  "peak_mb": Double(Storage.live.peak) / 1e6, "rss_max_mb": maxRSSMB(), "seconds": seconds])
    }
}
