import Foundation

/// Losses (scalar outputs, shape []) and cosine similarity, with PyTorch semantics.
///
/// Every loss rejects non-finite results: a NaN or infinite input makes the loss non-finite, so
/// checking the one output value costs nothing on the happy path; only then are the inputs
/// scanned to name the offending element. The error is `TensorError.nonFinite` naming the op.

/// Throws `nonFinite` naming `op` (and the first bad input element) unless `loss` is finite.
public func requireFinite(_ op: String, _ loss: Float, inputs: [Tensor]) throws {
    if loss.isFinite { return }
    for (k, x) in inputs.enumerated() {
        do { try x.checkFinite(op) } catch TensorError.nonFinite(_, let detail) {
            throw TensorError.nonFinite(op: op, detail: "input \(k): \(detail)")
        }
    }
    throw TensorError.nonFinite(op: op, detail: "loss is \(loss) although inputs of shapes \(inputs.map(\.shape)) are finite")
}

/// mean((a - b)²). a, b [..] (same shape) -> []. da = 2 (a - b) / N.
public func mseLoss(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    let op = "mseLoss"
    try check(a.shape == b.shape, op, [a.shape, b.shape], "shapes must match")
    let n = a.count, pa = a.ptr, pb = b.ptr
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let d = UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Float>.self) - UnsafeRawPointer(pb + i).loadUnaligned(as: SIMD8<Float>.self)
        acc += d * d
        i += 8
    }
    var s = acc.sum()
    while i < n { let d = pa[i] - pb[i]; s += d * d; i += 1 }
    let value = s / Float(Swift.max(n, 1))
    try requireFinite(op, value, inputs: [a, b])
    return Autograd.record(op, output: Tensor(scalar: value), inputs: [a, b]) { g in
        let k = 2 * g.ptr[0] / Float(Swift.max(n, 1))
        if a.requiresGrad { let ga = a.gradOrCreate().ptr; for i in 0..<n { ga[i] += k * (pa[i] - pb[i]) } }
        if b.requiresGrad { let gb = b.gradOrCreate().ptr; for i in 0..<n { gb[i] -= k * (pa[i] - pb[i]) } }
    }
}

/// Σ a b / (max(‖a‖, eps) max(‖b‖, eps)) along `axis` (F.cosine_similarity: each norm is clamped
/// to eps separately; a clamped norm is treated as a constant in backward).
/// a, b [.., n, ..] (same shape) -> [.., ..] (axis removed).
public func cosineSimilarity(_ a: Tensor, _ b: Tensor, axis: Int = -1, eps: Float = 1e-8) throws -> Tensor {
    let op = "cosineSimilarity"
    try check(a.shape == b.shape, op, [a.shape, b.shape], "shapes must match")
    let ax = try normalizeAxis(axis, rank: a.rank, op: op)
    let (outer, n, inner) = splitAround(a.shape, ax)
    var shape = a.shape
    shape.remove(at: ax)
    let out = Tensor(zeros: shape)
    // Per output element: ‖a‖ and ‖b‖ after clamping, and whether each was clamped (1) or not (0).
    let norms = Tensor(zeros: [outer * inner, 4])
    let pa = a.ptr, pb = b.ptr, po = out.ptr, pn = norms.ptr
    for o in 0..<outer {
        for j in 0..<inner {
            var dot: Float = 0, aa: Float = 0, bb: Float = 0
            var k = o * n * inner + j
            for _ in 0..<n { dot += pa[k] * pb[k]; aa += pa[k] * pa[k]; bb += pb[k] * pb[k]; k += inner }
            let na = aa.squareRoot(), nb = bb.squareRoot()
            let r = o * inner + j
            pn[4 * r] = Swift.max(na, eps); pn[4 * r + 1] = Swift.max(nb, eps)
            pn[4 * r + 2] = na < eps ? 1 : 0; pn[4 * r + 3] = nb < eps ? 1 : 0
            po[r] = dot / (pn[4 * r] * pn[4 * r + 1])
        }
    }
    return Autograd.record(op, output: out, inputs: [a, b]) { g in
        // d cos / da = b / (na nb) - cos a / na²  (second term dropped when na was clamped).
        let pg = g.ptr, pn = norms.ptr, py = out.ptr
        let ga = a.requiresGrad ? a.gradOrCreate().ptr : nil
        let gb = b.requiresGrad ? b.gradOrCreate().ptr : nil
        for o in 0..<outer {
            for j in 0..<inner {
                let r = o * inner + j
                let na = pn[4 * r], nb = pn[4 * r + 1], cos = py[r], gr = pg[r]
                let inv = gr / (na * nb)
                let ka = pn[4 * r + 2] == 0 ? gr * cos / (na * na) : 0
                let kb = pn[4 * r + 3] == 0 ? gr * cos / (nb * nb) : 0
                var k = o * n * inner + j
                for _ in 0..<n {
                    if let ga { ga[k] += inv * pb[k] - ka * pa[k] }
                    if let gb { gb[k] += inv * pa[k] - kb * pb[k] }
                    k += inner
                }
            }
        }
    }
}

/// Log-softmax of each row of [N, C] into `logp`.
private func logSoftmaxRows(_ x: UnsafePointer<Float>, _ logp: UnsafeMutablePointer<Float>, _ rows: Int, _ c: Int) {
    for r in 0..<rows {
        let xr = x + r * c, lr = logp + r * c
        let m = simdMax(xr, c)
        for i in 0..<c { lr[i] = fastExp(xr[i] - m) }
        let lse = m + Foundation.log(simdSum(lr, c))
        for i in 0..<c { lr[i] = xr[i] - lse }
    }
}

private func checkLogits(_ op: String, _ logits: Tensor) throws {
    guard logits.rank == 2, logits.shape[1] > 0 else {
        throw TensorError.shapeMismatch(op: op, shapes: [logits.shape], detail: "logits must be [N, C] with C > 0")
    }
}

/// -mean_n Σ_c t log softmax(x) with soft (probability) targets.
/// logits [N, C], softTargets [N, C] -> []. dx = (softmax · Σt - t) / N, dt = -log softmax / N.
public func crossEntropy(_ logits: Tensor, softTargets: Tensor) throws -> Tensor {
    let op = "crossEntropy"
    try checkLogits(op, logits)
    try check(softTargets.shape == logits.shape, op, [logits.shape, softTargets.shape], "targets must match the logits")
    let (rows, c) = (logits.shape[0], logits.shape[1])
    let logp = Tensor(zeros: logits.shape)
    logSoftmaxRows(logits.ptr, logp.ptr, rows, c)
    let value = -simdDot(logp.ptr, softTargets.ptr, logits.count) / Float(Swift.max(rows, 1))
    try requireFinite(op, value, inputs: [logits, softTargets])
    return Autograd.record(op, output: Tensor(scalar: value), inputs: [logits, softTargets]) { g in
        let k = g.ptr[0] / Float(Swift.max(rows, 1))
        let lp = logp.ptr, pt = softTargets.ptr
        if logits.requiresGrad {
            let gx = logits.gradOrCreate().ptr
            for r in 0..<rows {
                let lr = lp + r * c, tr = pt + r * c, gxr = gx + r * c
                let tsum = simdSum(tr, c)
                for i in 0..<c { gxr[i] += k * (fastExp(lr[i]) * tsum - tr[i]) }
            }
        }
        if softTargets.requiresGrad {
            let gt = softTargets.gradOrCreate().ptr
            for i in 0..<logits.count { gt[i] -= k * lp[i] }
        }
    }
}

/// Cross-entropy with integer labels and PyTorch label smoothing: the target is
/// (1 - ε) onehot(label) + ε / C. logits [N, C], labels N ints in 0..<C -> [].
/// dx = (softmax - target) / N.
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Float = 0) throws -> Tensor {
    let op = "crossEntropy"
    try checkLogits(op, logits)
    let (rows, c) = (logits.shape[0], logits.shape[1])
    try check(labels.count == rows, op, [logits.shape, [labels.count]], "one label per row")
    if let bad = labels.first(where: { $0 < 0 || $0 >= c }) {
        throw TensorError.badArgument(op: op, detail: "label \(bad) out of range 0..<\(c) for logits of shape \(logits.shape)")
    }
    guard labelSmoothing >= 0, labelSmoothing <= 1 else {
        throw TensorError.badArgument(op: op, detail: "labelSmoothing \(labelSmoothing) not in [0, 1]")
    }
    let logp = Tensor(zeros: logits.shape)
    let lp = logp.ptr
    logSoftmaxRows(logits.ptr, lp, rows, c)
    let onHot = 1 - labelSmoothing, uniform = labelSmoothing / Float(c)
    var total: Float = 0
    for r in 0..<rows {
        total -= onHot * lp[r * c + labels[r]]
        if labelSmoothing > 0 { total -= uniform * simdSum(lp + r * c, c) }
    }
    let value = total / Float(Swift.max(rows, 1))
    try requireFinite(op, value, inputs: [logits])
    return Autograd.record(op, output: Tensor(scalar: value), inputs: [logits]) { g in
        let k = g.ptr[0] / Float(Swift.max(rows, 1)), lp = logp.ptr
        let gx = logits.gradOrCreate().ptr
        for r in 0..<rows {
            let lr = lp + r * c, gxr = gx + r * c
            for i in 0..<c { gxr[i] += k * (fastExp(lr[i]) - uniform) }
            gxr[labels[r]] -= k * onHot
        }
    }
}

/// Reductions of `klDivergence`, as PyTorch's `reduction` argument.
public enum KLReduction: String, Sendable {
    /// Sum divided by the batch size (axis 0): the mathematical KL divergence per sample.
    case batchmean
    /// Sum divided by the number of elements.
    case mean
    case sum
}

/// F.kl_div(logInput, target): Σ target (log target - logInput), with 0 where target == 0,
/// reduced by `reduction`. logInput, target [N, ..] (same shape) -> [].
/// d/dlogInput = -target; d/dtarget = log target + 1 - logInput (the log term taken as 0 where
/// target == 0, where PyTorch's gradient is NaN).
public func klDivergence(_ logInput: Tensor, _ target: Tensor, reduction: KLReduction = .batchmean) throws -> Tensor {
    let op = "klDivergence"
    try check(logInput.shape == target.shape, op, [logInput.shape, target.shape], "shapes must match")
    guard logInput.rank >= 1 else {
        throw TensorError.shapeMismatch(op: op, shapes: [logInput.shape], detail: "needs rank >= 1")
    }
    let n = logInput.count, px = logInput.ptr, pt = target.ptr
    let scale: Float
    switch reduction {
    case .sum: scale = 1
    case .mean: scale = 1 / Float(Swift.max(n, 1))
    case .batchmean: scale = 1 / Float(Swift.max(logInput.shape[0], 1))
    }
    var total: Float = 0
    for i in 0..<n where pt[i] != 0 { total += pt[i] * (Foundation.log(pt[i]) - px[i]) }
    let value = total * scale
    try requireFinite(op, value, inputs: [logInput, target])
    return Autograd.record(op, output: Tensor(scalar: value), inputs: [logInput, target]) { g in
        let k = g.ptr[0] * scale
        if logInput.requiresGrad {
            let gx = logInput.gradOrCreate().ptr
            for i in 0..<n { gx[i] -= k * pt[i] }
        }
        if target.requiresGrad {
            let gt = target.gradOrCreate().ptr
            for i in 0..<n { gt[i] += k * ((pt[i] > 0 ? Foundation.log(pt[i]) + 1 : 0) - px[i]) }
        }
    }
}
