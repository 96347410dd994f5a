import Foundation

/// Softmax and log-softmax along one axis, numerically stable (the row maximum is subtracted
/// before exponentiating). The tensor is viewed as [outer, n, inner] around the axis; the last
/// axis (inner == 1) works on contiguous rows, other axes on whole [n, inner] planes with
/// per-column running maxima and sums.

/// Splits a shape around `axis`: (outer, n, inner).
func splitAround(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

/// Writes softmax (or log-softmax) of x into y along the middle axis of [outer, n, inner].
private func softmaxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                            _ outer: Int, _ n: Int, _ inner: Int, log: Bool) {
    if inner == 1 {
        for r in 0..<outer {
            let xr = x + r * n, yr = y + r * n
            let m = simdMax(xr, n)
            for i in 0..<n { yr[i] = fastExp(xr[i] - m) }
            let s = simdSum(yr, n)
            if log {
                let lse = m + Foundation.log(s)
                for i in 0..<n { yr[i] = xr[i] - lse }
            } else {
                let inv = 1 / s
                for i in 0..<n { yr[i] *= inv }
            }
        }
        return
    }
    var mx = [Float](repeating: 0, count: inner), sm = [Float](repeating: 0, count: inner)
    mx.withUnsafeMutableBufferPointer { mb in sm.withUnsafeMutableBufferPointer { sb in
        let m = mb.baseAddress!, s = sb.baseAddress!
        for o in 0..<outer {
            let xo = x + o * n * inner, yo = y + o * n * inner
            m.update(repeating: -.infinity, count: inner)
            s.update(repeating: 0, count: inner)
            for i in 0..<n { let xi = xo + i * inner; for j in 0..<inner { m[j] = Swift.max(m[j], xi[j]) } }
            for i in 0..<n {
                let xi = xo + i * inner, yi = yo + i * inner
                for j in 0..<inner { yi[j] = fastExp(xi[j] - m[j]); s[j] += yi[j] }
            }
            if log {
                for j in 0..<inner { s[j] = m[j] + Foundation.log(s[j]) }
                for i in 0..<n { let xi = xo + i * inner, yi = yo + i * inner; for j in 0..<inner { yi[j] = xi[j] - s[j] } }
            } else {
                for j in 0..<inner { s[j] = 1 / s[j] }
                for i in 0..<n { let yi = yo + i * inner; for j in 0..<inner { yi[j] *= s[j] } }
            }
        }
    } }
}

/// Softmax along `axis`. [..] -> [..]. dx = y (g - Σ g y).
public func softmax(_ x: Tensor, axis: Int = -1) throws -> Tensor {
    let ax = try normalizeAxis(axis, rank: x.rank, op: "softmax")
    let (outer, n, inner) = splitAround(x.shape, ax)
    let out = Tensor(uninitialized: x.shape)
    softmaxForward(x.ptr, out.ptr, outer, n, inner, log: false)
    return Autograd.record("softmax", output: out, inputs: [x]) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr, y = out.ptr
        if inner == 1 {
            for r in 0..<outer {
                let gr = pg + r * n, yr = y + r * n, gxr = gx + r * n
                let d = simdDot(gr, yr, n)
                for i in 0..<n { gxr[i] += yr[i] * (gr[i] - d) }
            }
        } else {
            let dot = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer { dot.deallocate() }
            for o in 0..<outer {
                let base = o * n * inner
                dot.update(repeating: 0, count: inner)
                for i in 0..<n {
                    let gi = pg + base + i * inner, yi = y + base + i * inner
                    for j in 0..<inner { dot[j] += gi[j] * yi[j] }
                }
                for i in 0..<n {
                    let gi = pg + base + i * inner, yi = y + base + i * inner, gxi = gx + base + i * inner
                    for j in 0..<inner { gxi[j] += yi[j] * (gi[j] - dot[j]) }
                }
            }
        }
    }
}

/// Log-softmax along `axis`. [..] -> [..]. dx = g - softmax · Σ g.
public func logSoftmax(_ x: Tensor, axis: Int = -1) throws -> Tensor {
    let ax = try normalizeAxis(axis, rank: x.rank, op: "logSoftmax")
    let (outer, n, inner) = splitAround(x.shape, ax)
    let out = Tensor(uninitialized: x.shape)
    softmaxForward(x.ptr, out.ptr, outer, n, inner, log: true)
    return Autograd.record("logSoftmax", output: out, inputs: [x]) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr, y = out.ptr
        if inner == 1 {
            for r in 0..<outer {
                let gr = pg + r * n, yr = y + r * n, gxr = gx + r * n
                let s = simdSum(gr, n)
                for i in 0..<n { gxr[i] += gr[i] - fastExp(yr[i]) * s }
            }
        } else {
            let tot = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer { tot.deallocate() }
            for o in 0..<outer {
                let base = o * n * inner
                tot.update(repeating: 0, count: inner)
                for i in 0..<n { let gi = pg + base + i * inner; for j in 0..<inner { tot[j] += gi[j] } }
                for i in 0..<n {
                    let gi = pg + base + i * inner, yi = y + base + i * inner, gxi = gx + base + i * inner
                    for j in 0..<inner { gxi[j] += gi[j] - fastExp(yi[j]) * tot[j] }
                }
            }
        }
    }
}
