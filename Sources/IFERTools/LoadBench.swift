import Foundation
import IFERTrain

/// `ifer bench load --config FILE`: what `ifer predict` (an `ifer`-stage config) or `ifer invert`
/// (an `asit`-stage config) spends loading a checkpoint of that model, against one forward of one
/// image. Writes a real checkpoint of freshly initialised weights (with AdamW-sized optimizer
/// state under --optimizer, as a training checkpoint has), then, median over --repeats:
/// - `load_s`: TrainedClassifier.load / TrainedInverter.load, exactly what the commands call
/// - `sidecar_s`: the whole-file hash alone (CheckpointReader.verifySidecar);
/// - `forward_s`: one [1, 3, S, S] image through the model (the command's forward).
/// Loads are from the page cache (the checkpoint was just written), as for a second call.
public enum LoadBench {
    public static func run(config: String, optimizer: Bool, dir: String?, repeats: Int) throws {
        guard repeats >= 1 else { throw ConfigError.badValue(path: "--repeats", detail: "must be at least 1") }
        let text: String
        do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
            throw ConfigError.badValue(path: "--config", detail: "cannot read config \(config): \(error.localizedDescription)")
        }
        let rc = try RunConfig.parse(text, source: config)
        let stage = rc.train.stage
        guard stage == "ifer" || stage == "asit" else { throw ConfigError.badValue(path: "--config", detail: "\(config): train.stage is '\(stage)'; give an ifer or asit config") }
        let base = dir ?? NSTemporaryDirectory() + "ifer-bench-load-\(getpid())"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: base) } }

        // The checkpoint: a freshly initialised model's tensors.
        var t0 = MonotonicClock.now()
        let params: [(key: String, tensor: Tensor)], buffers: [(key: String, tensor: Tensor)]
        if stage == "ifer" {
            let m = try makeClassifier(rc)
            params = m.namedParameters().map { (key: $0.0, tensor: $0.1) }
            buffers = m.namedBuffers().map { (key: $0.0, tensor: $0.1) }
        } else {
            let m = try ASIT(rc.model)
            m.resetNetworks(seed: 1)
            params = m.namedParameters().map { (key: $0.0, tensor: $0.1) }
            buffers = m.namedBuffers().map { (key: $0.0, tensor: $0.1) }
        }
        let initSeconds = MonotonicClock.now() - t0
        var optimizers: [OptimizerState] = []
        if optimizer {
            var o = OptimizerState(name: "adamw")
            for (k, t) in params {
                o.tensors.append(("exp_avg/\(k)", Tensor(zeros: t.shape)))
                o.tensors.append(("exp_avg_sq/\(k)", Tensor(zeros: t.shape)))
            }
            o.int64s = [("step", [1])]
            optimizers = [o]
        }
        let state = CheckpointState(stage: stage, step: 1, epoch: 0, worldSize: 1, config: rc.resolvedYAML, params: params,
                                    buffers: buffers, optimizers: optimizers, ranks: [RankState(rng: [1, 2, 3, 0], cursor: [0, 0])])
        t0 = MonotonicClock.now()
        let path = try CheckpointWriter.save(state, runDir: base, keep: 1)
        let saveSeconds = MonotonicClock.now() - t0
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let paramFloats = params.reduce(0) { $0 + $1.tensor.count }

        var load: [Double] = [], sidecar: [Double] = [], forward: [Double] = []
        for _ in 0..<repeats {
            t0 = MonotonicClock.now()
            try CheckpointReader.verifySidecar(path)
            sidecar.append(MonotonicClock.now() - t0)
            t0 = MonotonicClock.now()
            if stage == "ifer" {
                let trained = try TrainedClassifier.load(path)
                load.append(MonotonicClock.now() - t0)
                let x = Tensor(zeros: [1, 3, trained.model.inputSize, trained.model.inputSize])
                t0 = MonotonicClock.now()
                _ = try trained.probabilities(x)
                forward.append(MonotonicClock.now() - t0)
            } else {
                let inverter = try TrainedInverter.load(path)
                load.append(MonotonicClock.now() - t0)
                let x = Tensor(zeros: [1, 3, inverter.inputSize, inverter.inputSize])
                t0 = MonotonicClock.now()
                _ = try inverter.invert(x)
                forward.append(MonotonicClock.now() - t0)
            }
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        emitJSON(["bench": "load", "config": config, "stage": stage, "param_floats": paramFloats, "file_mb": Double(bytes) / 1e6,
                  "optimizer": optimizer, "init_s": initSeconds, "save_s": saveSeconds, "load_s": median(load),
                  "sidecar_s": median(sidecar), "forward_s": median(forward), "load_over_forward": median(load) / median(forward),
                  "threads": Threads.blas, "repeats": repeats])
    }
}
