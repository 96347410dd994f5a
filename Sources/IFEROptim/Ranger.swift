import Foundation

/// Ranger (the optimizer pSp and IFER-master train ASIT with): RAdam + Lookahead + gradient
/// centralisation, with pSp's defaults (alpha 0.5, k 6, N_sma threshold 5, betas (0.95, 0.999),
/// eps 1e-5, gc on every tensor of rank > 1).
///
/// Per step t:
///   gradient centralisation: g -= mean(g over all axes but the first)  (rank > 1 tensors)
///   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²
///   rho_inf = 2/(1-b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1-b2^t)
///   if rho_t > threshold: p -= lr * r_t * m̂ / (sqrt(v̂) + eps)   (rectified Adam)
///   else:                 p -= lr * m̂                          (un-adapted momentum)
///   every k steps: slow += alpha (p - slow); p = slow              (lookahead)
/// Weight decay (coupled, as pSp's Ranger) adds wd*lr*p.
public final class Ranger: FlatOptimizer, Optimizer {
    public let name = "ranger"
    let beta1: Float, beta2: Float, eps: Float, alpha: Float, k: Int, threshold: Float, decay: [Float]
    let centralize: Bool

    public init(_ flat: FlatBuffer, beta1: Float = 0.95, beta2: Float = 0.999, eps: Float = 1e-5,
                alpha: Float = 0.5, k: Int = 6, threshold: Float = 5, weightDecay: Float = 0,
                gradientCentralization: Bool = true) throws {
        guard k >= 1, (0...1).contains(alpha) else {
            throw OptimError.badConfig("lookahead needs k >= 1 and alpha in [0, 1] (got k=\(k), alpha=\(alpha))")
        }
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.alpha = alpha; self.k = k; self.threshold = threshold
        self.decay = decayMask(flat, decay: weightDecay)
        self.centralize = gradientCentralization
        try super.init(flat, stateKeys: ["exp_avg", "exp_avg_sq", "slow_buffer"])
        // Lookahead's slow weights start at the initial parameters.
        state(2).update(from: flat.values.base, count: flat.count)
    }

    public func step(lr: Float) throws {
        stepCount += 1
        let m = state(0), v = state(1), slow = state(2), p = self.p, g = self.g
        if centralize { centralizeGradients() }
        let t = Float(stepCount)
        let b2t = pow(beta2, t)
        let rhoInf = 2 / (1 - beta2) - 1
        let rhoT = rhoInf - 2 * t * b2t / (1 - b2t)
        let c1 = 1 - pow(beta1, t)
        var stepSize: Float
        let adaptive = rhoT > threshold
        if adaptive {
            let r = ((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)).squareRoot()
            stepSize = r * (1 - b2t).squareRoot() / c1
        } else {
            stepSize = 1 / c1
        }
        stepSize *= lr
        for i in 0..<n {
            let gi = g[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            if decay[i] != 0 { p[i] -= decay[i] * lr * p[i] }
            p[i] -= adaptive ? stepSize * m[i] / (v[i].squareRoot() + eps) : stepSize * m[i]
        }
        if stepCount % k == 0 {
            for i in 0..<n {
                slow[i] += alpha * (p[i] - slow[i])
                p[i] = slow[i]
            }
        }
    }

    /// Subtracts from each rank > 1 gradient its mean over all axes but the first (per output unit).
    private func centralizeGradients() {
        let g = self.g
        for (i, t) in flat.tensors.enumerated() where t.rank > 1 {
            let rows = t.shape[0], cols = t.count / max(rows, 1)
            let base = g + flat.offsets[i]
            for r in 0..<rows {
                let row = base + r * cols
                var s: Float = 0
                for c in 0..<cols { s += row[c] }
                let mean = s / Float(cols)
                for c in 0..<cols { row[c] -= mean }
            }
        }
    }
}
