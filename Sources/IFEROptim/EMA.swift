/// Exponential moving average of a network: target = decay * target + (1 - decay) * source,
/// tensor by tensor (the EMA generator of the `generator` stage, the momentum key branch of the
/// inversion discriminator). Targets are buffers: saved in checkpoints, never all-reduced; every
/// rank applies the same update to identical sources, so they stay identical.
public struct EMA {
    public let pairs: [(source: Tensor, target: Tensor)]
    public let decay: Float

    public init(source: [Tensor], target: [Tensor], decay: Float) throws {
        guard source.count == target.count else {
            throw OptimError.badConfig("EMA: \(source.count) source tensors but \(target.count) targets")
        }
        for (s, t) in zip(source, target) where s.shape != t.shape {
            throw OptimError.badConfig("EMA: shapes differ for '\(s.name)': \(s.shape) vs \(t.shape)")
        }
        guard (0...1).contains(decay) else { throw OptimError.badConfig("EMA decay \(decay) is not in [0, 1]") }
        self.pairs = Array(zip(source, target))
        self.decay = decay
    }

    public func update() {
        for (s, t) in pairs {
            let sp = s.ptr, tp = t.ptr
            for i in 0..<s.count { tp[i] = decay * tp[i] + (1 - decay) * sp[i] }
        }
    }

    /// Copies the sources into the targets (decay 0), as at initialisation.
    public func copy() {
        for (s, t) in pairs { t.ptr.update(from: s.ptr, count: s.count) }
    }
}
