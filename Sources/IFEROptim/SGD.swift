/// SGD with momentum, optional Nesterov, and coupled L2 weight decay (torch.optim.SGD semantics):
///   g' = g + wd*p;  v = mu*v + g';  p -= lr * (nesterov ? g' + mu*v : v)
public final class SGD: FlatOptimizer, Optimizer {
    public let name = "sgd"
    let momentum: Float, nesterov: Bool, decay: [Float]

    public init(_ flat: FlatBuffer, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) throws {
        if nesterov && momentum <= 0 { throw OptimError.badConfig("nesterov needs momentum > 0") }
        self.momentum = momentum
        self.nesterov = nesterov
        self.decay = decayMask(flat, decay: weightDecay)
        try super.init(flat, stateKeys: momentum > 0 ? ["momentum_buffer"] : [])
    }

    public func step(lr: Float) throws {
        stepCount += 1
        let p = self.p, g = self.g
        let velocity = momentum > 0 ? state(0) : nil
        for i in 0..<n {
            let gi = g[i] + decay[i] * p[i]
            if let v = velocity {
                // torch initialises the buffer with the first gradient (no dampening).
                v[i] = stepCount == 1 ? gi : momentum * v[i] + gi
                p[i] -= lr * (nesterov ? gi + momentum * v[i] : v[i])
            } else {
                p[i] -= lr * gi
            }
        }
    }
}
