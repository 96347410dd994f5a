import Foundation
import IFERTrain

/// `ifer bench memory --config <ifer config>`: peak tensor memory of one forward and backward of
/// the IFER classifier at batch 1, against what we expect: parameters + gradients (two flat
/// buffers) + the activations the autograd tape keeps (summed from the tape after forward).
public enum MemoryBench {
    public static func run(configFile: String, batch: Int) throws {
        let mc = try ModelConfig(file: configFile)
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
        let t0 = MonotonicClock.now()
        var rngs = SampleKeys.rngs(seed: 0, purpose: "drop-path", step: 0, globalIndices: Array(0..<batch))
        let logits = try model.forward(x, rngs: &rngs)
        let loss = try crossEntropy(logits, labels: Array(repeating: 0, count: batch), labelSmoothing: 0.1)
        let tape = Autograd.tapeBytes
        let afterForward = Storage.live.bytes
        try loss.backward()
        let seconds = MonotonicClock.now() - t0
        let paramBytes = flat.count * 4
        emitJSON(["bench": "memory", "config": configFile, "batch": batch, "params": model.parameterCount,
                  "param_mb": Double(paramBytes) / 1e6, "grad_mb": Double(paramBytes) / 1e6,
                  "tape_activation_mb": Double(tape) / 1e6,
                  "expected_peak_mb": Double(2 * paramBytes + tape) / 1e6,
                  "baseline_mb": Double(start) / 1e6, "after_forward_mb": Double(afterForward) / 1e6,
                  "peak_mb": Double(Storage.live.peak) / 1e6, "seconds": seconds])
    }
}
