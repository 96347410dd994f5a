import Foundation

/// Adam and AdamW (torch.optim semantics). AdamW decays weights decoupled from the gradient:
///   p *= 1 - lr*wd;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g²
///   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
/// Adam (decoupled: false) adds wd*p to the gradient instead (L2 regularisation).
public final class Adam: FlatOptimizer, Optimizer {
    public let name: String
    let beta1: Float, beta2: Float, eps: Float, decoupled: Bool, decay: [Float]

    public init(_ flat: FlatBuffer, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2), eps > 0 else {
            throw OptimError.badConfig("betas must be in [0, 1) and eps > 0 (got \(beta1), \(beta2), \(eps))")
        }
        name = decoupled ? "adamw" : "adam"
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.decoupled = decoupled
        self.decay = decayMask(flat, decay: weightDecay)
        try super.init(flat, stateKeys: ["exp_avg", "exp_avg_sq"])
    }

    /// AdamW, the IFER stage's optimizer.
    public static func adamW(_ flat: FlatBuffer, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                             weightDecay: Float = 0.05) throws -> Adam {
        try Adam(flat, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupled: true)
    }

    public func step(lr: Float) throws {
        let m = state(0), v = state(1)
        stepCount += 1
        let t = Float(stepCount)
        let c1 = 1 - pow(beta1, t), c2 = 1 - pow(beta2, t)
        let stepSize = lr / c1, c2s = c2.squareRoot()
        let p = self.p, g = self.g
        for i in 0..<n {
            var gi = g[i]
            if decoupled { p[i] *= 1 - lr * decay[i] } else { gi += decay[i] * p[i] }
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / c2s + eps)
        }
    }
}
