import Foundation
import Logging
import IFERTrain

/// `ifer bench step --config FILE`: images/s of the stage's own training step, the one the driver
/// runs (`TrainingStage.trainStep`: for asit the D step and the E step, for ifer the classifier
/// update), on one fixed in-memory batch, with the model FLOP utilisation against sgemm measured in
/// the same run. The stage is built exactly as `ifer train` builds it, on a small synthetic
/// RAF-DB shard set written to a scratch folder at the model's resolution.
///
/// FLOPs per asit step are estimated from the analytic forward MACs (2 FLOPs per MAC; E encoder,
/// G generator, D one discriminator branch): D step = E + G (no-grad reconstruction) + 2 x (D
/// forward + backward ≈ 3D) on real and fake + 2 D (key branch) = E + G + 8D; E step = 3E
/// (forward + backward) + 2G (forward + input gradient) + G (distribution-loss samples) + 3D
/// (query forward + input gradient, key forward). Direct-convolution FLOPs are counted, not the
/// fewer multiplications the Winograd path performs. For the ifer stage: 3 x the encoder and head.
/// For the generator stage (G generator, D its discriminator): D step = G (no-grad fakes) +
/// 2 x 3D (real and fake, forward + backward); G step = 3G + 2D (D forward + input gradient) =
/// 4G + 8D; the lazy R1 and path-length steps (every r1_every / path_every steps) are not counted.
///
/// `warmup` untimed steps, then at least `reps` timed ones (more until `minTime` seconds); the step
/// counter starts at 0 for every thread count, so lazy regularisation lands on the same steps.
public enum StepBench {
    public static func run(configFile: String, overrides: [String] = [], batch: Int, threads: [Int], minTime: Double,
                           warmup: Int = 2, reps: Int = 5) throws {
        let bench = try BenchStage(name: "step", configFile: configFile, overrides: overrides, batch: batch, images: 64)
        defer { bench.remove() }
        let config = bench.config, driver = bench.driver, fixed = bench.fixed

        // Only the networks the config's sections name (all: true would build a paper-size default encoder for a generator config).
        let nets = try ModelInventory.networks(config.model)
        func macs(_ n: String) -> Double { Double(nets.first { $0.name == n }?.macs ?? 0) }
        let e = macs("encoder"), g = macs("generator"), head = macs("ifer_head")
        let stepMACs: Double
        switch config.train.stage {
        case InversionStage.name:
            let d = macs("discriminator_q")
            stepMACs = (e + g + 8 * d) + (3 * e + 3 * g + 3 * d)
        case GeneratorStage.name:
            let d = macs("discriminator")
            stepMACs = (g + 6 * d) + (3 * g + 2 * d)
        default:
            stepMACs = 3 * (e + head)
        }
        let stepFLOPs = 2 * stepMACs * Double(batch)

        var rng = Philox(seed: 7)
        var oneThreadMs: Double?
        for th in threads.contains(1) ? [1] + threads.filter { $0 != 1 } : threads {
            Threads.setBLAS(th)
            // th-thread sgemm rate, the MFU denominator, timed right before every step: on a
            // shared machine the rate drifts (41-80 GFLOP/s at one thread in one hour here), so
            // each step's FLOP rate is divided by the rate of its own moment, and the MFU is the
            // median of those ratios.
            let n = 1024
            let a = Tensor.randn([n, n], &rng), b = Tensor.randn([n, n], &rng), c = Tensor(zeros: [n, n])
            func gemmRate() -> Double {
                let ts = (0..<3).map { _ in
                    measureSeconds { sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.ptr, lda: n, b: b.ptr, ldb: n, beta: 0, c: c.ptr, ldc: n) }
                }
                return 2 * pow(Double(n), 3) / median(ts)
            }
            var step = 0
            var peaks: [Double] = [], ratios: [Double] = []
            let t = try Timing.measure(warmup: warmup, reps: reps, minTime: minTime,
                                       before: { peaks.append(gemmRate()) },
                                       after: { ratios.append(stepFLOPs / $0 / peaks[peaks.count - 1]) }) {
                _ = try driver.stage.trainStep(fixed, step: step)
                step += 1
            }
            let peak = median(peaks), mfu = median(ratios)
            let flops = stepFLOPs / (t.medianMs * 1e-3)
            if th == 1 { oneThreadMs = t.medianMs }
            var line: [(String, Any)] = [("case", "\(config.train.stage)_step_b\(batch)"), ("config", configFile), ("stage", config.train.stage),
                                         ("threads", th), ("ms", t.medianMs), ("images_per_s", Double(batch) / (t.medianMs * 1e-3)),
                                         ("step_flops", Int(stepFLOPs)), ("gflops", flops / 1e9), ("sgemm_gflops", peak / 1e9),
                                         ("mfu", mfu), ("reps", t.reps)]
            if let one = oneThreadMs { line.append(("speedup_vs_1", one / t.medianMs)) }
            emitJSON(line)
        }
    }
}

/// A stage built exactly as `ifer train` builds it, on synthetic RAF-DB shards written at the
/// model's resolution into a scratch folder, with one fixed batch: what the step and memory
/// benches time.
struct BenchStage {
    let scratch: String
    let config: RunConfig
    let driver: StageDriver
    let fixed: Batch

    init(name: String, configFile: String, overrides: [String], batch: Int, images: Int) throws {
        scratch = NSTemporaryDirectory() + "ifer-bench-\(name)-\(getpid())"
        let probe = try RunConfig.load(file: configFile, overrides: overrides)
        let size = try StageTable.stage(named: probe.train.stage).data(probe).imageSize
        let comm = SingleProcess()
        _ = try SynthWriter.write(SynthOptions(layout: .rafdb, count: max(4 * batch, images), resolution: size, seed: 0),
                                  to: URL(fileURLWithPath: scratch + "/rafdb"), encoder: IFERIOSynthEncoder())
        _ = try ShardCoordinator.run(ShardOptions(dataset: .rafdb, root: scratch + "/rafdb", out: scratch + "/shards", resolution: size), comm: comm)
        config = try RunConfig.load(file: configFile, overrides: overrides + [
            "data.shards=\(scratch)/shards", "train.batch_size=\(batch)", "data.prefetch=0", "log.bar=off", "train.micro_batches=1"])
        var log = Logger(label: "ifer.bench")
        log.logLevel = .error
        driver = try StageDriver(config: config, comm: comm, runDir: scratch + "/run", log: log)
        _ = try driver.start(resume: "none")
        fixed = try driver.trainLoader.next()
    }

    func remove() { try? FileManager.default.removeItem(atPath: scratch) }
}
