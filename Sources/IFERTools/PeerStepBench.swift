import Foundation
import IFERTrain

/// `ifer bench step --model peer`: the PyTorch peer's ASIT-like training step (PeerASIT.swift;
/// peer_bench.py cases `asit_step_b8` and `asit_step_b8_scalemodconv`, and `ddp`), timed as whole
/// steps: zero the flat gradient, forward, backward (through DataParallel, as the training stages
/// do), Adam (lr 1e-4) on the encoder.
///
/// One process: one JSON line per BLAS thread count (median of Timing.measure).
/// Under mpirun: rank 0 first times the step alone (a world of one; the other ranks wait at a
/// barrier), then every rank times the same number of data-parallel steps (gradients all-reduced
/// in buckets, overlapped with backward) on its own batch; the step time is the largest of the
/// ranks' medians (as the peer's DDP case), total images/s = world · batch / that, and
/// scaling_efficiency = total / (world · single images/s).
public enum PeerStepBench {
    public struct Options {
        public var modes: [PeerModConvMode] = [.scale]
        public var batch = PeerArch.batch
        public var threads = [1, 2]
        public var minTime = 3.0
        /// Timed steps: per rank under mpirun (the same on every rank: each step has collectives);
        /// the minimum in one process (more until `minTime` seconds, at most 200, as the peer).
        public var reps = 20
        public var warmup = 3
        public var bucketBytes = 1 << 20
        public init() {}
    }

    /// One replica: the model, its encoder's flat buffer, DataParallel over `comm`, Adam, one
    /// fixed batch of uniform [-1, 1) images (seed 1000 + rank, as the peer's DDP case).
    public final class Trainer {
        public let model: PeerASIT
        public let input: Tensor
        public let flat: FlatBuffer
        public let dp: DataParallel
        let optimizer: Adam
        let lr: Float
        var steps = 0

        public init(comm: Communicator, mode: PeerModConvMode, batch: Int, lr: Float = 1e-4, bucketBytes: Int = 1 << 20) throws {
            model = PeerASIT(mode: mode, seed: 0)
            try model.checkCounts()
            var rng = Philox(seed: 1000 + UInt64(comm.rank))
            input = Tensor(zeros: [batch, 3, PeerArch.image, PeerArch.image])
            input.fillUniform(&rng, low: -1, high: 1)
            let params = model.enc.namedParameters(prefix: "enc.").map(\.tensor)
            flat = FlatBuffer(params, withGradients: true)
            dp = try DataParallel(flat, comm: comm, bucketBytes: bucketBytes)
            optimizer = try Adam(flat, decoupled: false)
            self.lr = lr
            try dp.broadcastParameters()
        }

        /// One training step; returns the loss before the update (this rank's batch).
        @discardableResult
        public func step() throws -> Float {
            flat.zeroGrad()
            let loss = try model.loss(input)
            let value = loss.item
            try dp.backward(loss)
            try optimizer.step(lr: lr)
            try dp.stepFinished(steps)
            steps += 1
            return value
        }

        public func close() { dp.close() }
    }

    public static func run(_ comm: Communicator, _ o: Options) throws {
        guard o.batch > 0, o.reps > 0, !o.threads.isEmpty, !o.modes.isEmpty else {
            throw TensorError.badArgument(op: "bench step --model peer", detail: "batch, reps, threads and modconv modes must be positive / non-empty")
        }
        let probe = PeerASIT()
        try probe.checkCounts()
        let c = probe.counts
        if comm.isRoot {
            emitJSON(["case": "arch", "model": "peer", "encoder_params": c["encoder_params"] ?? 0,
                      "encoder_block_params_each": c["encoder_block_params_each"] ?? 0, "encoder_head_params": c["encoder_head_params"] ?? 0,
                      "encoder_patch_pos": c["encoder_patch_pos"] ?? 0, "generator_params": c["generator_params"] ?? 0,
                      "generator_modconv3x3_each": c["generator_modconv3x3_each"] ?? 0, "generator_torgb_each": c["generator_torgb_each"] ?? 0,
                      "discriminator_params": c["discriminator_params"] ?? 0, "total_params": c["total_params"] ?? 0,
                      "trainable_params": c["trainable_params"] ?? 0, "matches_peer": true])
        }
        if comm.worldSize == 1 {
            try single(o, trainable: c["trainable_params"] ?? 0)
        } else {
            for mode in o.modes { try dataParallel(comm, o, mode: mode, trainable: c["trainable_params"] ?? 0) }
        }
    }

    static func caseName(_ mode: PeerModConvMode, batch: Int) -> String {
        "asit_step_b\(batch)" + (mode == .grouped ? "_groupedmodconv" : "")
    }

    /// One JSON line per (modconv mode, thread count).
    static func single(_ o: Options, trainable: Int) throws {
        for th in o.threads {
            Threads.setBLAS(th)
            for mode in o.modes {
                let t = try Trainer(comm: SingleProcess(), mode: mode, batch: o.batch, bucketBytes: o.bucketBytes)
                defer { t.close() }
                let first = try t.step()
                let timing = try Timing.measure(warmup: o.warmup, reps: o.reps, minTime: o.minTime) { _ = try t.step() }
                let last = try t.step()
                emitJSON(["case": caseName(mode, batch: o.batch), "model": "peer", "modconv": mode.rawValue, "threads": th,
                          "batch": o.batch, "ms": timing.medianMs, "ms_min": timing.minMs,
                          "images_per_s": Double(o.batch) / (timing.medianMs * 1e-3), "reps": timing.reps,
                          "trainable_params": trainable, "loss_first": first, "loss_last": last])
            }
        }
    }

    /// Rank 0 alone, then every rank data-parallel; one JSON line from rank 0.
    static func dataParallel(_ comm: Communicator, _ o: Options, mode: PeerModConvMode, trainable: Int) throws {
        let th = o.threads[0]
        Threads.setBLAS(th)
        var singleMs = 0.0
        if comm.isRoot {
            let t = try Trainer(comm: SingleProcess(), mode: mode, batch: o.batch, bucketBytes: o.bucketBytes)
            defer { t.close() }
            singleMs = try timeSteps(t, warmup: o.warmup, reps: o.reps)
        }
        try comm.barrier()

        let t = try Trainer(comm: comm, mode: mode, batch: o.batch, bucketBytes: o.bucketBytes)
        defer { t.close() }
        for _ in 0..<o.warmup { try t.step() }
        try comm.barrier()
        let ms = try timeSteps(t, warmup: 0, reps: o.reps)
        // The slowest rank's median sets the pace (every step ends in the same all-reduce).
        let all = try comm.allGather([Int64((ms * 1e6).rounded())])
        let stepMs = Double(all.max() ?? 0) / 1e6
        try t.dp.checkReplicas(step: t.steps)
        guard comm.isRoot else { return }
        let world = comm.worldSize
        let single = Double(o.batch) / (singleMs * 1e-3)
        let total = Double(world * o.batch) / (stepMs * 1e-3)
        emitJSON(["case": caseName(mode, batch: o.batch) + "_ddp", "model": "peer", "modconv": mode.rawValue, "world": world,
                  "threads_per_rank": th, "batch_per_rank": o.batch, "ms": stepMs, "images_per_s": total,
                  "single_ms": singleMs, "single_images_per_s": single, "scaling_efficiency": total / (Double(world) * single),
                  "reps": o.reps, "buckets": t.dp.buckets.count, "bucket_bytes": o.bucketBytes,
                  "trainable_params": trainable, "replicas_identical": true])
    }

    /// Median milliseconds of `reps` steps after `warmup` untimed ones (a fixed count, so every
    /// rank issues the same collectives).
    static func timeSteps(_ t: Trainer, warmup: Int, reps: Int) throws -> Double {
        for _ in 0..<warmup { try t.step() }
        var ts: [Double] = []
        for _ in 0..<reps { ts.append(try measureSeconds { _ = try t.step() }) }
        return median(ts) * 1e3
    }
}
