import Foundation

/// Learning rate as a function of the optimizer step (0-based). Pure functions of the step, so a
/// resumed run needs only the step count to continue the schedule exactly.
public enum Schedule: Equatable {
    case constant(lr: Float)
    /// lr * gamma^(number of milestones <= step)
    case step(lr: Float, milestones: [Int], gamma: Float)
    /// Linear warmup from `warmupLR` to `lr` over `warmupSteps`, then cosine decay to `minLR` at `totalSteps`
    /// (timm's CosineLRScheduler with t_in_epochs=False, no restarts).
    case cosine(lr: Float, minLR: Float, warmupSteps: Int, warmupLR: Float, totalSteps: Int)

    public func lr(at step: Int) -> Float {
        switch self {
        case let .constant(lr):
            return lr
        case let .step(lr, milestones, gamma):
            return lr * pow(gamma, Float(milestones.filter { $0 <= step }.count))
        case let .cosine(lr, minLR, warmup, warmupLR, total):
            if step < warmup {
                return warmupLR + (lr - warmupLR) * Float(step) / Float(max(warmup, 1))
            }
            let span = max(total - warmup, 1)
            let t = min(Float(step - warmup) / Float(span), 1)
            return minLR + 0.5 * (lr - minLR) * (1 + cos(Float.pi * t))
        }
    }
}

/// Scales the flat gradient so its global L2 norm is at most `maxNorm` (after the all-reduce, so
/// every rank computes the same norm). Returns the norm before clipping. Throws if it is not finite.
@discardableResult
public func clipGradNorm(_ flat: FlatBuffer, maxNorm: Float) throws -> Float {
    guard let g = flat.grads?.base else { return 0 }
    var s: Double = 0
    for i in 0..<flat.count { s += Double(g[i]) * Double(g[i]) }
    let norm = Float(s.squareRoot())
    guard norm.isFinite else {
        throw OptimError.badState("gradient norm is \(norm): a loss or gradient became non-finite")
    }
    if maxNorm > 0 && norm > maxNorm {
        let c = maxNorm / (norm + 1e-6)
        for i in 0..<flat.count { g[i] *= c }
    }
    return norm
}
