/// Shape ops. Tensors are always contiguous, so reshape (and a slice that is one contiguous
/// block) is a free view sharing storage; permute, concat and other slices copy.

/// Reshape to `shape` (one entry may be -1 and is inferred). A view: shares x's storage.
/// [..] -> shape.
public func reshape(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
    let op = "reshape"
    let unknown = shape.indices.filter { shape[$0] == -1 }
    guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, shape], detail: "at most one -1 and no other negative sizes")
    }
    var target = shape
    if let u = unknown.first {
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        guard known > 0, x.count % known == 0 else {
            throw TensorError.shapeMismatch(op: op, shapes: [x.shape, shape], detail: "cannot infer the -1 axis from \(x.count) elements")
        }
        target[u] = x.count / known
    }
    try check(target.reduce(1, *) == x.count, op, [x.shape, shape], "\(x.count) elements do not fit")
    let out = Tensor(view: x.storage, offset: x.offset, shape: target)
    return Autograd.record(op, output: out, inputs: [x], vjp: { g, _ in [try reshape(g, x.shape)] }) { g in
        x.accumulateGrad(g.ptr)
    }
}

/// Walks a permuted copy: `dims` are merged output axes, `strides` the matching input strides.
private struct PermutePlan {
    var dims: [Int] = []
    var strides: [Int] = []
    let count: Int

    init(shape: [Int], perm: [Int]) {
        count = shape.reduce(1, *)
        var inStride = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { inStride[i] = inStride[i + 1] * shape[i + 1] }
        for p in perm where shape[p] != 1 {
            if let last = dims.indices.last, strides[last] == inStride[p] * shape[p] {
                dims[last] *= shape[p]; strides[last] = inStride[p]  // contiguous in the input too: merge
            } else {
                dims.append(shape[p]); strides.append(inStride[p])
            }
        }
        if dims.isEmpty { dims = [1]; strides = [1] }
    }

    /// Calls body(outOffset, inOffset, n, inStride) for each innermost output row.
    func forEachRow(_ body: (Int, Int, Int, Int) -> Void) {
        let k = dims.count, n = dims[k - 1], s = strides[k - 1]
        var idx = [Int](repeating: 0, count: k)
        var i = 0, o = 0
        while o < count {
            body(o, i, n, s)
            o += n
            var d = k - 2
            while d >= 0 {
                idx[d] += 1; i += strides[d]
                if idx[d] < dims[d] { break }
                i -= strides[d] * dims[d]; idx[d] = 0
                d -= 1
            }
        }
    }
}

/// Reorders axes: out axis i is input axis dims[i]. [d0, d1, ..] -> [d_dims[0], ..].
public func permute(_ x: Tensor, _ dims: [Int]) throws -> Tensor {
    let op = "permute"
    let perm = try dims.map { try normalizeAxis($0, rank: x.rank, op: op) }
    guard perm.count == x.rank, Set(perm).count == perm.count else {
        throw TensorError.badArgument(op: op, detail: "\(dims) is not a permutation of the axes of a tensor of shape \(x.shape)")
    }
    let out = Tensor(uninitialized: perm.map { x.shape[$0] })
    let plan = PermutePlan(shape: x.shape, perm: perm)
    let px = x.ptr, po = out.ptr
    plan.forEachRow { o, i, n, s in
        let dst = po + o, src = px + i
        if s == 1 { dst.update(from: src, count: n) } else { for j in 0..<n { dst[j] = src[j * s] } }
    }
    var inverse = perm
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return Autograd.record(op, output: out, inputs: [x], vjp: { g, _ in [try permute(g, inverse)] }) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr
        plan.forEachRow { o, i, n, s in
            let dst = gx + i, src = pg + o
            if s == 1 { for j in 0..<n { dst[j] += src[j] } } else { for j in 0..<n { dst[j * s] += src[j] } }
        }
    }
}

/// Swaps axes a and b. [.., da, .., db, ..] -> [.., db, .., da, ..].
public func transpose(_ x: Tensor, _ a: Int, _ b: Int) throws -> Tensor {
    let ia = try normalizeAxis(a, rank: x.rank, op: "transpose"), ib = try normalizeAxis(b, rank: x.rank, op: "transpose")
    var perm = Array(0..<x.rank)
    perm.swapAt(ia, ib)
    return try permute(x, perm)
}

/// Joins tensors along `axis`; all other axes must agree. [.., n_k, ..] -> [.., Σ n_k, ..].
public func concat(_ xs: [Tensor], axis: Int) throws -> Tensor {
    let op = "concat"
    guard let first = xs.first else { throw TensorError.badArgument(op: op, detail: "no tensors to join") }
    let ax = try normalizeAxis(axis, rank: first.rank, op: op)
    for x in xs {
        var a = x.shape, b = first.shape
        guard a.count == b.count else {
            throw TensorError.shapeMismatch(op: op, shapes: xs.map(\.shape), detail: "ranks differ")
        }
        a[ax] = 0; b[ax] = 0
        try check(a == b, op, xs.map(\.shape), "axes other than \(axis) must match")
    }
    var shape = first.shape
    shape[ax] = xs.reduce(0) { $0 + $1.shape[ax] }
    let (outer, total, inner) = splitAround(shape, ax)
    let out = Tensor(uninitialized: shape)
    var start = 0
    var starts: [Int] = []
    for x in xs {
        let w = x.shape[ax] * inner
        starts.append(start)
        for o in 0..<outer { (out.ptr + o * total * inner + start).update(from: x.ptr + o * w, count: w) }
        start += w
    }
    return Autograd.record(op, output: out, inputs: xs, vjp: { g, needs in
        // Each input's gradient is its slice of g along the axis.
        var at = 0
        return try xs.enumerated().map { k, x in
            defer { at += x.shape[ax] }
            return needs[k] ? try slice(g, axis: ax, start: at, end: at + x.shape[ax]) : nil
        }
    }) { g in
        for (k, x) in xs.enumerated() where x.requiresGrad {
            let w = x.shape[ax] * inner, gx = x.gradOrCreate().ptr
            for o in 0..<outer {
                let src = g.ptr + o * total * inner + starts[k], dst = gx + o * w
                for j in 0..<w { dst[j] += src[j] }
            }
        }
    }
}

/// Elements start..<end along `axis`. [.., d, ..] -> [.., end - start, ..]. A view when the
/// slice is one contiguous block (every axis before `axis` has size 1), else a copy.
public func slice(_ x: Tensor, axis: Int, start: Int, end: Int) throws -> Tensor {
    let op = "slice"
    let ax = try normalizeAxis(axis, rank: x.rank, op: op)
    guard 0 <= start, start <= end, end <= x.shape[ax] else {
        throw TensorError.badArgument(op: op, detail: "range \(start)..<\(end) out of bounds for axis \(axis) of shape \(x.shape)")
    }
    var shape = x.shape
    shape[ax] = end - start
    let (outer, n, inner) = splitAround(x.shape, ax)
    let w = (end - start) * inner
    let out: Tensor
    if outer == 1 {
        out = Tensor(view: x.storage, offset: x.offset + start * inner, shape: shape)
    } else {
        out = Tensor(uninitialized: shape)
        for o in 0..<outer { (out.ptr + o * w).update(from: x.ptr + (o * n + start) * inner, count: w) }
    }
    return Autograd.record(op, output: out, inputs: [x], vjp: { g, _ in
        // g put back in place between zeros: a concat, whose own gradient is this slice again.
        var before = x.shape, after = x.shape
        before[ax] = start
        after[ax] = x.shape[ax] - end
        var parts: [Tensor] = []
        if start > 0 { parts.append(Tensor(zeros: before)) }
        parts.append(g)
        if end < x.shape[ax] { parts.append(Tensor(zeros: after)) }
        return [parts.count == 1 ? g : try concat(parts, axis: ax)]
    }) { g in
        let gx = x.gradOrCreate().ptr
        for o in 0..<outer {
            let src = g.ptr + o * w, dst = gx + (o * n + start) * inner
            for j in 0..<w { dst[j] += src[j] }
        }
    }
}

/// Cuts x along `axis` into pieces of the given sizes (they must add up to the axis length).
/// [.., Σ s_k, ..] -> [[.., s_k, ..]].
public func split(_ x: Tensor, sizes: [Int], axis: Int) throws -> [Tensor] {
    let op = "split"
    let ax = try normalizeAxis(axis, rank: x.rank, op: op)
    guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x.shape[ax] else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, sizes], detail: "sizes must be >= 0 and add up to axis \(axis)")
    }
    var start = 0
    return try sizes.map { s in
        defer { start += s }
        return try slice(x, axis: ax, start: start, end: start + s)
    }
}
