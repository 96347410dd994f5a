import Foundation

/// Mixup and CutMix as timm applies them in 'batch' mode (the IFER stage's timm defaults): one
/// λ per batch; each image is mixed with the batch reversed; with probability `switchProb` CutMix
/// replaces Mixup when both are on. Targets become soft: λ·smooth(y) + (1-λ)·smooth(flip(y)).
/// Randomness comes from a key of (seed, step, rank): batch mixing depends on the local batch by
/// nature, the one documented exception to world-size invariance.
public struct Mixup {
    public let mixupAlpha: Float, cutmixAlpha: Float, prob: Float, switchProb: Float
    public let labelSmoothing: Float, classes: Int

    public init(mixupAlpha: Float, cutmixAlpha: Float, prob: Float, switchProb: Float, labelSmoothing: Float, classes: Int) {
        self.mixupAlpha = mixupAlpha; self.cutmixAlpha = cutmixAlpha; self.prob = prob
        self.switchProb = switchProb; self.labelSmoothing = labelSmoothing; self.classes = classes
    }

    public var enabled: Bool { mixupAlpha > 0 || cutmixAlpha > 0 }

    /// Mixes `images` [N, 3, H, W] in place and returns soft targets [N, classes].
    public func apply(images: Tensor, labels: [Int], rng: inout Philox) -> Tensor {
        var lam: Float = 1
        var cut = false
        if enabled && rng.uniform() < prob {
            cut = cutmixAlpha > 0 && (mixupAlpha <= 0 || rng.uniform() < switchProb)
            lam = Mixup.beta(cut ? cutmixAlpha : mixupAlpha, &rng)
        }
        let n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3)
        if lam < 1 && n > 1 {
            let src = images.copy()
            if cut {
                // A box of area (1-λ) at a random centre, clipped; λ is corrected to the kept area.
                let ratio = (1 - lam).squareRoot()
                let bh = Int(Float(h) * ratio), bw = Int(Float(w) * ratio)
                let cy = rng.int(below: h), cx = rng.int(below: w)
                let y0 = max(cy - bh / 2, 0), y1 = min(cy + bh / 2, h)
                let x0 = max(cx - bw / 2, 0), x1 = min(cx + bw / 2, w)
                for i in 0..<n {
                    let j = n - 1 - i
                    for ch in 0..<c { for y in y0..<y1 { for x in x0..<x1 {
                        images.ptr[((i * c + ch) * h + y) * w + x] = src.ptr[((j * c + ch) * h + y) * w + x]
                    } } }
                }
                lam = 1 - Float((y1 - y0) * (x1 - x0)) / Float(h * w)
            } else {
                let per = c * h * w
                for i in 0..<n {
                    let a = src.ptr + i * per, b = src.ptr + (n - 1 - i) * per, o = images.ptr + i * per
                    for k in 0..<per { o[k] = lam * a[k] + (1 - lam) * b[k] }
                }
            }
        }
        let targets = Tensor(zeros: [n, classes])
        let off = labelSmoothing / Float(classes), on = 1 - labelSmoothing + off
        for i in 0..<n {
            let row = targets.ptr + i * classes
            // Mixed targets: λ·smooth(y_i) + (1-λ)·smooth(y_{n-1-i}).
            for k in 0..<classes { row[k] = off }
            row[labels[i]] += lam * (on - off)
            row[labels[n - 1 - i]] += (1 - lam) * (on - off)
        }
        return targets
    }

    /// Beta(a, a) from two Gamma(a) draws (Marsaglia-Tsang).
    static func beta(_ a: Float, _ rng: inout Philox) -> Float {
        let x = gamma(a, &rng), y = gamma(a, &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    static func gamma(_ a: Float, _ rng: inout Philox) -> Float {
        if a < 1 { return gamma(a + 1, &rng) * pow(max(rng.uniform(), 1e-12), 1 / a) }
        let d = a - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Float, v: Float
            repeat { x = rng.normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = rng.uniform()
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-12)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
