/// Sums and means over axes. A reduction is the transpose of a broadcast: the reduced output
/// (with size-1 axes kept) broadcasts back to the input, so both directions reuse
/// `BroadcastPlan`. Reducing a contiguous run (e.g. the last axis) uses SIMD8 accumulators;
/// reducing leading axes adds whole rows.

/// Validated, sorted, de-duplicated axes and the kept shape (reduced axes set to 1).
private func reducedShape(_ x: Tensor, _ axes: [Int], _ op: String) throws -> (axes: [Int], kept: [Int]) {
    guard !axes.isEmpty else {
        throw TensorError.badArgument(op: op, detail: "no axes given for a tensor of shape \(x.shape) (use \(op)All)")
    }
    let norm = try axes.map { try normalizeAxis($0, rank: x.rank, op: op) }.sorted()
    guard Set(norm).count == norm.count else {
        throw TensorError.badArgument(op: op, detail: "repeated axis in \(axes) for a tensor of shape \(x.shape)")
    }
    var kept = x.shape
    for a in norm { kept[a] = 1 }
    return (norm, kept)
}

/// Shared sum/mean: out = factor * sum over `axes`.
private func reduce(_ op: String, _ x: Tensor, _ axes: [Int], _ keepDims: Bool, mean: Bool) throws -> Tensor {
    let (norm, kept) = try reducedShape(x, axes, op)
    let outShape = keepDims ? kept : x.shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element)
    let out = Tensor(zeros: outShape)
    let reduced = norm.reduce(1) { $0 * x.shape[$1] }
    let factor: Float = mean ? 1 / Float(Swift.max(reduced, 1)) : 1
    // Rows of the input: x offset `o`, output offset `oa`, output inner stride 0 (reduce) or 1 (copy).
    let plan = BroadcastPlan(out: x.shape, a: kept, b: x.shape)
    let n = plan.inner, s = plan.innerA, px = x.ptr, po = out.ptr
    plan.forEachRow { o, oa, _ in
        let xr = px + o, outr = po + oa
        if s == 0 { outr[0] += simdSum(xr, n) } else { for i in 0..<n { outr[i] += xr[i] } }
    }
    if mean { for i in 0..<out.count { po[i] *= factor } }
    return Autograd.record(op, output: out, inputs: [x], vjp: { g, _ in
        let back = try expand(try reshape(g, kept), to: x.shape)
        return [mean ? scale(back, factor) : back]
    }) { g in
        // dx = factor * g broadcast back over the reduced axes.
        let gx = x.gradOrCreate().ptr, pg = g.ptr
        plan.forEachRow { o, oa, _ in
            let gxr = gx + o, gr = pg + oa
            if s == 0 {
                let v = gr[0] * factor
                for i in 0..<n { gxr[i] += v }
            } else {
                for i in 0..<n { gxr[i] += gr[i] * factor }
            }
        }
    }
}

/// Sum over `axes` (negative allowed). [.., d, ..] -> [..] or [.., 1, ..] with keepDims.
public func sum(_ x: Tensor, axes: [Int], keepDims: Bool = false) throws -> Tensor {
    try reduce("sum", x, axes, keepDims, mean: false)
}

/// Mean over `axes`. [.., d, ..] -> [..] or [.., 1, ..] with keepDims.
public func mean(_ x: Tensor, axes: [Int], keepDims: Bool = false) throws -> Tensor {
    try reduce("mean", x, axes, keepDims, mean: true)
}

/// Sum of every element. [..] -> [].
public func sumAll(_ x: Tensor) -> Tensor {
    let out = Tensor(scalar: simdSum(x.ptr, x.count))
    return Autograd.record("sumAll", output: out, inputs: [x], vjp: { g, _ in [try expand(g, to: x.shape)] }) { g in
        let gx = x.gradOrCreate().ptr, v = g.ptr[0]
        for i in 0..<x.count { gx[i] += v }
    }
}

/// Mean of every element. [..] -> [].
public func meanAll(_ x: Tensor) -> Tensor {
    let factor = 1 / Float(Swift.max(x.count, 1))
    let out = Tensor(scalar: simdSum(x.ptr, x.count) * factor)
    return Autograd.record("meanAll", output: out, inputs: [x], vjp: { g, _ in
        [scale(try expand(g, to: x.shape), factor)]
    }) { g in
        let gx = x.gradOrCreate().ptr, v = g.ptr[0] * factor
        for i in 0..<x.count { gx[i] += v }
    }
}
