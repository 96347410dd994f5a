/// The optimizer and learning-rate schedule a config's `optim` section names, shared by every
/// stage (the asit stage builds one for the encoder and one for the discriminator).
public func makeOptimizer(_ flat: FlatBuffer, _ o: RunConfig.Optim) throws -> Optimizer {
    switch o.name {
    case "adamw": return try Adam(flat, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay, decoupled: true)
    case "adam": return try Adam(flat, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay, decoupled: false)
    case "sgd": return try SGD(flat, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay)
    default: return try Ranger(flat, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, weightDecay: o.weightDecay)
    }
}

public func makeSchedule(_ o: RunConfig.Optim, totalSteps: Int) -> Schedule {
    switch o.schedule {
    case "constant": return .constant(lr: o.lr)
    case "step": return .step(lr: o.lr, milestones: o.milestones, gamma: o.gamma)
    default: return .cosine(lr: o.lr, minLR: o.minLR, warmupSteps: o.warmupSteps, warmupLR: o.warmupLR, totalSteps: totalSteps)
    }
}

/// Optimizer state as a checkpoint section named `name` (moments, step count, learning rate).
func optimizerState(_ optimizer: Optimizer, name: String, lr: Float) throws -> OptimizerState {
    var opt = OptimizerState(name: name)
    for (k, a) in optimizer.stateArrays() { opt.tensors.append((key: k, tensor: try Tensor(a, shape: [a.count]))) }
    opt.int64s.append((key: "step", values: [Int64(optimizer.stepCount)]))
    opt.scalars.append((key: "lr", value: Double(lr)))
    return opt
}

/// Restores what optimizerState saved.
func restoreOptimizer(_ optimizer: Optimizer, from r: CheckpointReader, name: String) throws {
    let o = try r.optimizer(name)
    var arrays: [String: [Float]] = [:]
    for (k, t) in o.tensors { arrays[k] = t.array }
    try optimizer.loadState(arrays, stepCount: Int(o.int64s("step")?.first ?? 0))
}
