import Foundation

/// Layer normalisation over the last axis, and StyleGAN2's pixel normalisation over axis 1.

/// y = (x - mean) / √(var + eps) * weight + bias over the last axis (biased variance, as PyTorch).
/// x [.., C], weight [C]?, bias [C]? -> [.., C].
public func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, eps: Float = 1e-5) throws -> Tensor {
    let op = "layerNorm"
    guard x.rank >= 1, x.count > 0 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "needs a non-empty tensor of rank >= 1")
    }
    let c = x.dim(-1), rows = x.count / c
    if let w = weight { try check(w.shape == [c], op, [x.shape, w.shape], "weight must be [\(c)]") }
    if let b = bias { try check(b.shape == [c], op, [x.shape, b.shape], "bias must be [\(c)]") }
    let out = Tensor(uninitialized: x.shape)
    // Per-row mean and 1/std, kept for backward.
    let stats = Tensor(zeros: [rows, 2])
    let px = x.ptr, py = out.ptr, ps = stats.ptr
    let pw = weight?.ptr, pb = bias?.ptr
    let invC = 1 / Float(c)
    // Rows are independent: split over the BLAS threads.
    Threads.parallel(rows, work: c) { part in for r in part {
        let xr = px + r * c, yr = py + r * c
        let mu = simdSum(xr, c) * invC
        for i in 0..<c { yr[i] = xr[i] - mu }
        let rstd = 1 / (simdDot(yr, yr, c) * invC + eps).squareRoot()
        ps[2 * r] = mu; ps[2 * r + 1] = rstd
        switch (pw, pb) {
        case let (w?, b?): for i in 0..<c { yr[i] = yr[i] * rstd * w[i] + b[i] }
        case let (w?, nil): for i in 0..<c { yr[i] = yr[i] * rstd * w[i] }
        case let (nil, b?): for i in 0..<c { yr[i] = yr[i] * rstd + b[i] }
        case (nil, nil): for i in 0..<c { yr[i] *= rstd }
        }
    } }
    var inputs = [x]
    if let w = weight { inputs.append(w) }
    if let b = bias { inputs.append(b) }
    return Autograd.record(op, output: out, inputs: inputs) { g in
        // With xhat = (x - mean) rstd and dxhat = g w:
        //   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)),  dw = Σ g xhat,  db = Σ g.
        let pg = g.ptr, ps = stats.ptr  // reading stats here keeps it alive with the closure
        let gx = x.requiresGrad ? x.gradOrCreate().ptr : nil
        let gw = weight.flatMap { $0.requiresGrad ? $0.gradOrCreate().ptr : nil }
        let gb = bias.flatMap { $0.requiresGrad ? $0.gradOrCreate().ptr : nil }
        // dw and db sum over rows: one pass in row order on this thread (the same bits at any
        // thread count). dx is per row: split over the BLAS threads, each with its own scratch.
        if gw != nil || gb != nil {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
            defer { scratch.deallocate() }
            let gwr = gw ?? scratch, gbr = gb ?? scratch + c
            for r in 0..<rows {
                let xr = px + r * c, gr = pg + r * c
                let mu = ps[2 * r], rstd = ps[2 * r + 1]
                for i in 0..<c { let gi = gr[i], xh = (xr[i] - mu) * rstd; gwr[i] += gi * xh; gbr[i] += gi }
            }
        }
        guard let gx else { return }
        Threads.parallel(rows, work: 3 * c) { part in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
            defer { scratch.deallocate() }
            let xhat = scratch, dxhat = scratch + c
            for r in part {
                let xr = px + r * c, gr = pg + r * c
                let mu = ps[2 * r], rstd = ps[2 * r + 1]
                if let w = pw {
                    for i in 0..<c { xhat[i] = (xr[i] - mu) * rstd; dxhat[i] = gr[i] * w[i] }
                } else {
                    for i in 0..<c { xhat[i] = (xr[i] - mu) * rstd; dxhat[i] = gr[i] }
                }
                let m1 = simdSum(dxhat, c) * invC, m2 = simdDot(dxhat, xhat, c) * invC
                let gxr = gx + r * c
                for i in 0..<c { gxr[i] += rstd * (dxhat[i] - m1 - xhat[i] * m2) }
            }
        }
    }
}

/// y = x / √(mean(x², axis 1) + eps) (StyleGAN2's PixelNorm on the mapping input).
/// x [N, C, ..] -> [N, C, ..]. dx = r g - x r³ Σ_c(g x) / C with r = 1/√(mean x² + eps).
public func pixelNorm(_ x: Tensor, eps: Float = 1e-8) throws -> Tensor {
    let op = "pixelNorm"
    guard x.rank >= 2 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "needs rank >= 2 (normalises over axis 1)")
    }
    let (outer, c, inner) = splitAround(x.shape, 1)
    let out = Tensor(zeros: x.shape)
    let rs = Tensor(zeros: [outer, inner])  // r per (sample, position), kept for backward
    let px = x.ptr, py = out.ptr, pr = rs.ptr
    let invC = 1 / Float(c)
    for o in 0..<outer {
        let xo = px + o * c * inner, yo = py + o * c * inner, r = pr + o * inner
        if inner == 1 {
            r[0] = 1 / (simdDot(xo, xo, c) * invC + eps).squareRoot()
        } else {
            for ch in 0..<c { let xc = xo + ch * inner; for j in 0..<inner { r[j] += xc[j] * xc[j] } }
            for j in 0..<inner { r[j] = 1 / (r[j] * invC + eps).squareRoot() }
        }
        for ch in 0..<c {
            let xc = xo + ch * inner, yc = yo + ch * inner
            for j in 0..<inner { yc[j] = xc[j] * r[j] }
        }
    }
    return Autograd.record(op, output: out, inputs: [x], vjp: { g, _ in
        // The same gradient with tensor ops, r recomputed from x: dx = r g - x r³/C Σ_c(g x).
        let r = rsqrt(addScalar(try mean(square(x), axes: [1], keepDims: true), eps))    // [N, 1, ..]
        let dot = try sum(try mul(g, x), axes: [1], keepDims: true)                       // [N, 1, ..]
        return [try sub(try mul(g, r), try mul(x, try mul(scale(pow(r, 3), invC), dot)))]
    }) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr, pr = rs.ptr  // reading rs keeps it alive
        let dot = UnsafeMutablePointer<Float>.allocate(capacity: inner)
        defer { dot.deallocate() }
        for o in 0..<outer {
            let base = o * c * inner, r = pr + o * inner
            if inner == 1 {
                dot[0] = simdDot(pg + base, px + base, c)
            } else {
                dot.update(repeating: 0, count: inner)
                for ch in 0..<c {
                    let gc = pg + base + ch * inner, xc = px + base + ch * inner
                    for j in 0..<inner { dot[j] += gc[j] * xc[j] }
                }
            }
            // Fold r³/C into the per-position factor once.
            for j in 0..<inner { dot[j] *= r[j] * r[j] * r[j] * invC }
            for ch in 0..<c {
                let gc = pg + base + ch * inner, xc = px + base + ch * inner, gxc = gx + base + ch * inner
                for j in 0..<inner { gxc[j] += r[j] * gc[j] - xc[j] * dot[j] }
            }
        }
    }
}
