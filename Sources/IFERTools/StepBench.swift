import Foundation
import IFERTrain

/// `ifer bench step --config <asit config>`: images/s of one ASIT encoder training step (the
/// "E step": encoder forward, frozen generator, frozen discriminator, L2 + least-squares
/// adversarial loss, backward into the encoder, AdamW) at a fixed batch, with the model FLOP
/// utilisation against single-core sgemm measured in the same run.
///
/// FLOPs per image are estimated from the config's analytic forward MACs: 2 FLOPs per MAC, and a
/// training step ≈ 3× the encoder forward (forward + input and weight gradients) + 2× the
/// generator (forward + input gradient; its weights are frozen) + 2× one discriminator branch
/// on the reconstruction (forward + input gradient) + 1× the key branch on the source.
public enum StepBench {
    public static func run(configFile: String, batch: Int, threads: [Int], minTime: Double) throws {
        let mc = try ModelConfig(file: configFile)
        let asit = try ASIT(mc)
        asit.resetNetworks(seed: 0)
        asit.freezeDecoder()
        let d = InversionDiscriminator(mc.discriminator)
        d.resetAll(seed: 1)
        for (_, p) in d.namedParameters() { p.requiresGrad = false }
        let params = asit.encoder.namedParameters()
        for (k, t) in params { t.name = k }
        let flat = FlatBuffer(params.map(\.1), withGradients: true)
        let opt = try Adam.adamW(flat, weightDecay: 0)
        var rng = Philox(seed: 7)
        let size = try EncoderConfig(mc.encoder).imageSize
        let x = Tensor(zeros: [batch, 3, size, size])
        x.fillUniform(&rng, low: -1, high: 1)
        let ones = Tensor(filled: 1, shape: [batch, 1])

        let nets = try ModelInventory.networks(mc)
        func macs(_ n: String) -> Double { Double(nets.first { $0.name == n }?.macs ?? 0) }
        let fwdMACs = macs("encoder") + macs("generator") + 2 * macs("discriminator_q")
        let stepFLOPs = 2 * (3 * macs("encoder") + 2 * macs("generator") + 3 * macs("discriminator_q")) * Double(batch)

        for th in threads {
            Threads.setBLAS(th)
            // Single-core (or th-core) sgemm rate in the same run, the MFU denominator.
            let n = 1024
            let a = Tensor.randn([n, n], &rng), b = Tensor.randn([n, n], &rng), c = Tensor(zeros: [n, n])
            let gemm = Timing.measure(minTime: 0.5) {
                sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.ptr, lda: n, b: b.ptr, ldb: n, beta: 0, c: c.ptr, ldc: n)
            }
            let peak = 2 * pow(Double(n), 3) / (gemm.medianMs * 1e-3)
            let t = try Timing.measure(warmup: 2, reps: 5, minTime: minTime) {
                flat.zeroGrad()
                var rngs = SampleKeys.rngs(seed: 0, purpose: "drop-path", step: 0, globalIndices: Array(0..<batch))
                let out = try asit(x, rngs: &rngs)
                let cos = try d(out.image, x)                                   // [B, 1]
                let adv = try meanAll(square(sub(cos, ones)))                    // LS target +1
                let loss = try add(mseLoss(out.image, x), scale(adv, 0.1))
                try loss.backward()
                try opt.step(lr: 1e-4)
            }
            let flops = stepFLOPs / (t.medianMs * 1e-3)
            emitJSON(["case": "asit_step_b\(batch)", "config": configFile, "threads": th, "ms": t.medianMs,
                      "images_per_s": Double(batch) / (t.medianMs * 1e-3), "forward_macs_per_image": Int(fwdMACs),
                      "step_flops": Int(stepFLOPs), "gflops": flops / 1e9, "sgemm_gflops": peak / 1e9,
                      "mfu": flops / peak, "reps": t.reps])
        }
    }
}
