/// Dropout and stochastic depth with per-sample generators: `rngs[i]` draws every random number
/// of batch row i, so a sample's mask depends only on its own key, not on how the batch was split
/// across ranks or micro-batches. Callers skip both outside training.

/// Validates p and the generator count shared by both ops.
private func checkStochastic(_ op: String, _ x: Tensor, _ p: Float, _ rngs: Int) throws {
    guard x.rank >= 1 else { throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "needs a batch axis") }
    guard p >= 0, p <= 1 else { throw TensorError.badArgument(op: op, detail: "p = \(p) not in [0, 1]") }
    guard rngs == x.shape[0] else {
        throw TensorError.badArgument(op: op, detail: "\(rngs) generators for a batch of \(x.shape[0]) (shape \(x.shape)); need one per row")
    }
}

/// y = x · mask / (1 - p) elementwise, mask ~ Bernoulli(1 - p) drawn row by row from rngs[row].
/// x [B, ..] -> [B, ..]; dx = g · mask / (1 - p). p = 0 returns x itself and draws nothing.
public func dropout(_ x: Tensor, p: Float, rngs: inout [Philox]) throws -> Tensor {
    let op = "dropout"
    try checkStochastic(op, x, p, rngs.count)
    if p == 0 { return x }
    let keep = 1 - p, kept: Float = p < 1 ? 1 / keep : 0
    let rows = x.shape[0], n = x.count / Swift.max(rows, 1)
    // The mask holds the factor (0 or 1/(1-p)) per element so backward is one multiply.
    let mask = Tensor(zeros: x.shape)
    let pm = mask.ptr
    for r in 0..<rows {
        for j in 0..<n where rngs[r].bernoulli(keep) { pm[r * n + j] = kept }
    }
    let out = Tensor(zeros: x.shape)
    let px = x.ptr, po = out.ptr
    for i in 0..<x.count { po[i] = px[i] * pm[i] }
    return Autograd.record(op, output: out, inputs: [x]) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr, pm = mask.ptr
        for i in 0..<x.count { gx[i] += pg[i] * pm[i] }
    }
}

/// Stochastic depth (timm drop_path): each sample (row of the batch) is kept with probability
/// 1 - p and then scaled by 1/(1-p), or zeroed whole. One draw from rngs[row] per sample.
/// x [B, ..] -> [B, ..]; dx = g · factor[row]. p = 0 returns x itself and draws nothing.
public func dropPath(_ x: Tensor, p: Float, rngs: inout [Philox]) throws -> Tensor {
    let op = "dropPath"
    try checkStochastic(op, x, p, rngs.count)
    if p == 0 { return x }
    let keep = 1 - p, kept: Float = p < 1 ? 1 / keep : 0
    let rows = x.shape[0], n = x.count / Swift.max(rows, 1)
    let factors = (0..<rows).map { rngs[$0].bernoulli(keep) ? kept : 0 }
    let out = Tensor(zeros: x.shape)
    let px = x.ptr, po = out.ptr
    for r in 0..<rows where factors[r] != 0 {
        let f = factors[r], src = px + r * n, dst = po + r * n
        for j in 0..<n { dst[j] = src[j] * f }
    }
    return Autograd.record(op, output: out, inputs: [x]) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr
        for r in 0..<rows where factors[r] != 0 {
            let f = factors[r], src = pg + r * n, dst = gx + r * n
            for j in 0..<n { dst[j] += src[j] * f }
        }
    }
}
