import Foundation

/// Elementwise arithmetic with NumPy broadcasting, and the unary maps.
///
/// Broadcasting: shapes are right-aligned; each axis must be equal or 1 in one operand. The
/// backward of a broadcast operand sums the gradient over the axes it was broadcast along.
/// A `BroadcastPlan` merges adjacent axes where both operands behave alike, so the common cases
/// collapse to one or two loops: same shape -> one flat loop, bias [C] on [B, T, C] -> rows of C,
/// per-channel [1, C, 1, 1] on [N, C, H, W] -> rows of H*W with a constant.

// MARK: - Broadcasting

/// Result shape of broadcasting `a` with `b`, or a shape mismatch naming `op`.
func broadcastShape(_ a: [Int], _ b: [Int], _ op: String) throws -> [Int] {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        guard da == db || da == 1 || db == 1 else {
            throw TensorError.shapeMismatch(op: op, shapes: [a, b],
                                            detail: "axis \(i) of the broadcast result: \(da) vs \(db)")
        }
        out[i] = da == 1 ? db : da
    }
    return out
}

/// How to walk a contiguous output of shape `out` together with two operands broadcast to it.
/// `dims` are the merged output axes; `sa`/`sb` the operands' element strides along them
/// (0 where broadcast). The innermost stride of each operand is 0 or 1.
struct BroadcastPlan {
    private(set) var dims: [Int] = []
    private(set) var sa: [Int] = []
    private(set) var sb: [Int] = []
    let count: Int

    init(out: [Int], a: [Int], b: [Int]) {
        count = out.reduce(1, *)
        let fa = BroadcastPlan.strides(a, out), fb = BroadcastPlan.strides(b, out)
        for i in 0..<out.count where out[i] != 1 {
            if let last = dims.indices.last,
               sa[last] == fa[i] * out[i] || (sa[last] == 0 && fa[i] == 0),
               sb[last] == fb[i] * out[i] || (sb[last] == 0 && fb[i] == 0) {
                // Axis i continues the previous merged axis for both operands.
                dims[last] *= out[i]; sa[last] = fa[i]; sb[last] = fb[i]
            } else {
                dims.append(out[i]); sa.append(fa[i]); sb.append(fb[i])
            }
        }
        if dims.isEmpty { dims = [1]; sa = [0]; sb = [0] }
    }

    /// Element strides of `shape` (right-aligned) inside `out`, 0 along broadcast axes.
    private static func strides(_ shape: [Int], _ out: [Int]) -> [Int] {
        var s = [Int](repeating: 0, count: out.count)
        var step = 1
        for i in stride(from: out.count - 1, through: 0, by: -1) {
            let j = i - (out.count - shape.count)
            let d = j >= 0 ? shape[j] : 1
            s[i] = d == 1 ? 0 : step
            step *= d
        }
        return s
    }

    var inner: Int { dims[dims.count - 1] }
    var innerA: Int { sa[sa.count - 1] }
    var innerB: Int { sb[sb.count - 1] }

    /// Calls `body(outOffset, aOffset, bOffset)` at the start of every innermost row.
    @inline(__always)
    func forEachRow(_ body: (Int, Int, Int) -> Void) {
        if dims.count == 1 { body(0, 0, 0); return }
        forEachRow(in: 0..<count / inner, body)
    }

    /// The same for rows `rows` (counted in the merged outer axes, row-major): an odometer over
    /// the outer axes started at rows.lowerBound.
    @inline(__always)
    func forEachRow(in rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let k = dims.count, n = inner
        var idx = [Int](repeating: 0, count: max(k - 1, 0))
        var rest = rows.lowerBound, oa = 0, ob = 0
        for d in stride(from: k - 2, through: 0, by: -1) {
            idx[d] = rest % dims[d]; rest /= dims[d]
            oa += idx[d] * sa[d]; ob += idx[d] * sb[d]
        }
        for row in rows {
            body(row * n, oa, ob)
            var d = k - 2
            while d >= 0 {
                idx[d] += 1; oa += sa[d]; ob += sb[d]
                if idx[d] < dims[d] { break }
                oa -= sa[d] * dims[d]; ob -= sb[d] * dims[d]; idx[d] = 0
                d -= 1
            }
        }
    }

    /// Calls `body(outOffset, aOffset, bOffset, length)` over pieces of rows that together cover
    /// the output once, split over the BLAS threads when the tensor is large. Only for bodies that
    /// write their piece's own elements: the output, or the gradient of an operand that is not
    /// broadcast (a broadcast operand's gradient sums over rows and must use `forEachRow`).
    /// A single row (same shapes) is cut into pieces; otherwise whole rows are shared out.
    func forEachPiece(_ body: (Int, Int, Int, Int) -> Void) {
        let n = inner
        if dims.count == 1 {
            let ia = innerA, ib = innerB
            Threads.parallel(n) { r in body(r.lowerBound, r.lowerBound * ia, r.lowerBound * ib, r.count) }
            return
        }
        Threads.parallel(count / n, work: n) { rows in forEachRow(in: rows) { body($0, $1, $2, n) } }
    }
}

// MARK: - Row kernels (contiguous or stride-0 operands)

/// Sum of n contiguous floats with 4 SIMD8 accumulators (a scalar loop is latency-bound, ~15x slower).
@inline(__always)
func simdSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 32 <= n {
        a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        a1 += raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        a2 += raw.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
        a3 += raw.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
        i += 32
    }
    while i + 8 <= n { a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Dot product of n contiguous floats (SIMD8 accumulators).
@inline(__always)
func simdDot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
    var i = 0
    while i + 16 <= n {
        a0 += rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        a1 += rp.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self) * rq.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        i += 16
    }
    while i + 8 <= n {
        a0 += rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = (a0 + a1).sum()
    while i < n { s += p[i] * q[i]; i += 1 }
    return s
}

/// Maximum of n >= 1 contiguous floats (NaN-propagation is not needed: callers check losses).
@inline(__always)
func simdMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    let raw = UnsafeRawPointer(p)
    var i = 0
    var m = -Float.infinity
    if n >= 8 {
        var acc = raw.loadUnaligned(as: SIMD8<Float>.self)
        i = 8
        while i + 8 <= n {
            // compare + blend; `pointwiseMax` is scalarised by the compiler (NaN rules) and 6x slower.
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            acc.replace(with: v, where: v .> acc)
            i += 8
        }
        m = acc.max()
    }
    while i < n { m = Swift.max(m, p[i]); i += 1 }
    return m
}

/// o[i] = f(a[i*sa], b[i*sb]) for a row of n, where sa and sb are 0 or 1.
@inline(__always)
func rowMap(_ o: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ sa: Int,
            _ b: UnsafePointer<Float>, _ sb: Int, _ n: Int, _ f: (Float, Float) -> Float) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { o[i] = f(a[i], b[i]) }
    } else if sa == 1 {
        let bv = b[0]
        for i in 0..<n { o[i] = f(a[i], bv) }
    } else if sb == 1 {
        let av = a[0]
        for i in 0..<n { o[i] = f(av, b[i]) }
    } else {
        o.update(repeating: f(a[0], b[0]), count: n)
    }
}

/// d[i*sd] += f(i) over a row of n: an elementwise add when sd == 1, a reduction into d[0]
/// when sd == 0 (the broadcast operand's gradient).
@inline(__always)
func rowAccumulate(_ d: UnsafeMutablePointer<Float>, _ sd: Int, _ n: Int, _ f: (Int) -> Float) {
    if sd == 1 {
        for i in 0..<n { d[i] += f(i) }
    } else {
        // Eight independent partial sums break the add-latency chain.
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += SIMD8(f(i), f(i + 1), f(i + 2), f(i + 3), f(i + 4), f(i + 5), f(i + 6), f(i + 7))
            i += 8
        }
        var s = acc.sum()
        while i < n { s += f(i); i += 1 }
        d[0] += s
    }
}

/// e^x in float32 to about 1 ulp (max relative error 1.2e-7 against libm), written with plain
/// arithmetic and bit casts only so loops calling it auto-vectorise (libm's expf does not).
/// exp(x) = 2^n e^r with n = round(x / ln 2) and |r| <= ln 2 / 2; e^r by Cephes' polynomial.
/// Underflows to exactly 0 below -87.33 (so masked logits of -inf give 0), +inf above 88.72.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let xc = x > 88.72 ? 88.72 : (x < -87.33 ? -87.33 : x)
    let t = xc * 1.44269504 + 12582912.0  // adding 1.5·2^23 rounds x/ln2 into the low mantissa bits
    let n = t - 12582912.0
    let r = xc - n * 0.693359375 + n * 2.12194440e-4  // ln 2 split in two for an exact product
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let twoN = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    let y = p * twoN
    return x > 88.72 ? .infinity : (x < -87.33 ? 0 : y)
}

/// d[i*sd] += f(i, u[i*su]) over a row of n (sd, su each 0 or 1): the gradient of a binary op
/// whose other operand u may be broadcast. Branching on the strides up front keeps each loop
/// free of index multiplies so the elementwise cases auto-vectorise.
@inline(__always)
func rowAccumulate(_ d: UnsafeMutablePointer<Float>, _ sd: Int, _ u: UnsafePointer<Float>, _ su: Int,
                   _ n: Int, _ f: (Int, Float) -> Float) {
    switch (sd, su) {
    case (1, 1): for i in 0..<n { d[i] += f(i, u[i]) }
    case (1, _): let u0 = u[0]; for i in 0..<n { d[i] += f(i, u0) }
    case (_, 1): rowAccumulate(d, 0, n) { f($0, u[$0]) }
    default: let u0 = u[0]; rowAccumulate(d, 0, n) { f($0, u0) }
    }
}

// MARK: - Binary ops

/// Shared forward of the four broadcasting binary ops; `back` receives (g, out, plan) and is the
/// fast backward, `vjp(g, out)` the same gradients with tensor ops (before summing over the
/// broadcast axes, which `binary` does with `sumTo`), for second-order gradients.
@inline(__always)
private func binary(_ op: String, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float,
                    vjp: @escaping (_ g: Tensor, _ out: Tensor, _ needs: [Bool]) throws -> [Tensor?],
                    back: @escaping (Tensor, Tensor, BroadcastPlan) -> Void) throws -> Tensor {
    let shape = try broadcastShape(a.shape, b.shape, op)
    let out = Tensor(uninitialized: shape)
    let plan = BroadcastPlan(out: shape, a: a.shape, b: b.shape)
    let ia = plan.innerA, ib = plan.innerB
    let pa = a.ptr, pb = b.ptr, po = out.ptr
    // On this thread, for the same reason as `unary`'s forward (f must inline into rowMap).
    let n = plan.inner
    plan.forEachRow { o, oa, ob in rowMap(po + o, pa + oa, ia, pb + ob, ib, n, f) }
    return Autograd.record(op, output: out, inputs: [a, b], vjp: { g, needs in
        let gs = try vjp(g, out, needs)
        return [try gs[0].map { try sumTo($0, a.shape) }, try gs[1].map { try sumTo($0, b.shape) }]
    }) { g in back(g, out, plan) }
}

/// The gradient rows of `plan` for `target` (an operand): split over the threads when target is
/// not broadcast (each piece then adds into its own elements), else row after row on this thread
/// (a broadcast operand's gradient sums over rows, always in the same order).
@inline(__always)
func forEachGradientPiece(_ plan: BroadcastPlan, into target: Tensor, _ body: (Int, Int, Int, Int) -> Void) {
    if target.count == plan.count { return plan.forEachPiece(body) }
    let n = plan.inner
    plan.forEachRow { body($0, $1, $2, n) }
}

/// Sums x over the axes along which `shape` was broadcast to x's shape (the adjoint of a
/// broadcast; differentiable). [.., d, ..] -> shape.
public func sumTo(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
    if x.shape == shape { return x }
    let lead = x.rank - shape.count
    var axes: [Int] = []
    for i in 0..<x.rank where i < lead || (shape[i - lead] == 1 && x.shape[i] != 1) { axes.append(i) }
    if axes.isEmpty { return try reshape(x, shape) }
    return try reshape(try sum(x, axes: axes, keepDims: true), shape)
}

/// x broadcast to `shape` (a copy; differentiable, its gradient is `sumTo`). [..] -> shape.
public func expand(_ x: Tensor, to shape: [Int]) throws -> Tensor {
    if x.shape == shape { return x }
    return try add(Tensor(zeros: shape), x)
}

/// a + b, broadcast. [..] + [..] -> broadcast shape.
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try binary("add", a, b, +, vjp: { g, _, needs in [needs[0] ? g : nil, needs[1] ? g : nil] }) { g, _, plan in
        let pg = g.ptr
        if a.requiresGrad {
            let ga = a.gradOrCreate().ptr, s = plan.innerA
            forEachGradientPiece(plan, into: a) { o, oa, _, len in let gr = pg + o; rowAccumulate(ga + oa, s, len) { gr[$0] } }
        }
        if b.requiresGrad {
            let gb = b.gradOrCreate().ptr, s = plan.innerB
            forEachGradientPiece(plan, into: b) { o, _, ob, len in let gr = pg + o; rowAccumulate(gb + ob, s, len) { gr[$0] } }
        }
    }
}

/// a - b, broadcast.
public func sub(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try binary("sub", a, b, -, vjp: { g, _, needs in [needs[0] ? g : nil, needs[1] ? neg(g) : nil] }) { g, _, plan in
        let pg = g.ptr
        if a.requiresGrad {
            let ga = a.gradOrCreate().ptr, s = plan.innerA
            forEachGradientPiece(plan, into: a) { o, oa, _, len in let gr = pg + o; rowAccumulate(ga + oa, s, len) { gr[$0] } }
        }
        if b.requiresGrad {
            let gb = b.gradOrCreate().ptr, s = plan.innerB
            forEachGradientPiece(plan, into: b) { o, _, ob, len in let gr = pg + o; rowAccumulate(gb + ob, s, len) { -gr[$0] } }
        }
    }
}

/// a * b, broadcast. da = g * b, db = g * a (each summed over its broadcast axes).
public func mul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try binary("mul", a, b, *, vjp: { g, _, needs in
        [needs[0] ? try mul(g, b) : nil, needs[1] ? try mul(g, a) : nil]
    }) { g, _, plan in
        let pg = g.ptr, pa = a.ptr, pb = b.ptr
        let ia = plan.innerA, ib = plan.innerB
        if a.requiresGrad {
            let ga = a.gradOrCreate().ptr
            forEachGradientPiece(plan, into: a) { o, oa, ob, len in
                let gr = pg + o
                rowAccumulate(ga + oa, ia, pb + ob, ib, len) { gr[$0] * $1 }
            }
        }
        if b.requiresGrad {
            let gb = b.gradOrCreate().ptr
            forEachGradientPiece(plan, into: b) { o, oa, ob, len in
                let gr = pg + o
                rowAccumulate(gb + ob, ib, pa + oa, ia, len) { gr[$0] * $1 }
            }
        }
    }
}

/// a / b, broadcast. da = g / b, db = -g * out / b.
public func div(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try binary("div", a, b, /, vjp: { g, out, needs in
        [needs[0] ? try div(g, b) : nil, needs[1] ? neg(try div(try mul(g, out), b)) : nil]
    }) { g, out, plan in
        let pg = g.ptr, pb = b.ptr, py = out.ptr
        let ia = plan.innerA, ib = plan.innerB
        if a.requiresGrad {
            let ga = a.gradOrCreate().ptr
            forEachGradientPiece(plan, into: a) { o, oa, ob, len in
                let gr = pg + o
                rowAccumulate(ga + oa, ia, pb + ob, ib, len) { gr[$0] / $1 }
            }
        }
        if b.requiresGrad {
            let gb = b.gradOrCreate().ptr
            forEachGradientPiece(plan, into: b) { o, _, ob, len in
                let gr = pg + o, yr = py + o
                rowAccumulate(gb + ob, ib, pb + ob, ib, len) { -gr[$0] * yr[$0] / $1 }
            }
        }
    }
}

// MARK: - Unary ops

/// Shared forward of the unary maps: out[i] = f(x[i]); `back(g, gx, x, out, n)` adds into x's
/// gradient over n elements (the pointers start at the same element). The backward splits over
/// the BLAS threads for large tensors (`Threads.parallel`; each element is computed alone, so the
/// bits do not depend on the thread count).
/// `dx(g, out)` is the same gradient with tensor ops (for second order; nil: not differentiable twice).
@inline(__always)
func unary(_ op: String, _ x: Tensor, _ f: (Float) -> Float,
           dx: ((_ g: Tensor, _ out: Tensor) throws -> Tensor)? = nil,
           back: @escaping (_ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                            _ out: UnsafePointer<Float>, _ n: Int) -> Void) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.ptr, po = out.ptr
    // The forward stays on this thread: `f` inlines into this loop (and vectorises) only here;
    // called through the threads' closure it would be one indirect call per element (measured:
    // gelu's forward 2x slower at two threads than at one).
    for i in 0..<x.count { po[i] = f(px[i]) }
    let vjp: Autograd.VJP? = dx.map { dx in { g, _ in [try dx(g, out)] } }
    return Autograd.record(op, output: out, inputs: [x], vjp: vjp) { g in
        let pg = g.ptr, gx = x.gradOrCreate().ptr, py = out.ptr
        Threads.parallel(x.count) { r in
            let i = r.lowerBound
            back(pg + i, gx + i, px + i, py + i, r.count)
        }
    }
}

/// x + s. Same shape.
public func addScalar(_ x: Tensor, _ s: Float) -> Tensor {
    unary("addScalar", x, { $0 + s }, dx: { g, _ in g }) { g, gx, _, _, n in
        for i in 0..<n { gx[i] += g[i] }
    }
}

/// x * s. Same shape.
public func scale(_ x: Tensor, _ s: Float) -> Tensor {
    unary("scale", x, { $0 * s }, dx: { g, _ in scale(g, s) }) { g, gx, _, _, n in
        for i in 0..<n { gx[i] += g[i] * s }
    }
}

/// -x.
public func neg(_ x: Tensor) -> Tensor {
    unary("neg", x, { -$0 }, dx: { g, _ in neg(g) }) { g, gx, _, _, n in
        for i in 0..<n { gx[i] -= g[i] }
    }
}

/// e^x. d/dx = out.
public func exp(_ x: Tensor) -> Tensor {
    unary("exp", x, { fastExp($0) }, dx: { g, out in try mul(g, out) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] += g[i] * y[i] }
    }
}

/// Natural log (NaN for negative inputs, -inf at 0, as PyTorch). d/dx = 1/x.
public func log(_ x: Tensor) -> Tensor {
    unary("log", x, { Foundation.log($0) }, dx: { g, _ in try div(g, x) }) { g, gx, px, _, n in
        for i in 0..<n { gx[i] += g[i] / px[i] }
    }
}

/// √x. d/dx = 1 / (2 out).
public func sqrt(_ x: Tensor) -> Tensor {
    unary("sqrt", x, { $0.squareRoot() }, dx: { g, out in try div(scale(g, 0.5), out) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] += g[i] * 0.5 / y[i] }
    }
}

/// 1/√x. d/dx = -out³ / 2.
public func rsqrt(_ x: Tensor) -> Tensor {
    unary("rsqrt", x, { 1 / $0.squareRoot() }, dx: { g, out in try mul(scale(g, -0.5), pow(out, 3)) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] -= g[i] * 0.5 * y[i] * y[i] * y[i] }
    }
}

/// x². d/dx = 2x.
public func square(_ x: Tensor) -> Tensor {
    unary("square", x, { $0 * $0 }, dx: { g, _ in try mul(scale(g, 2), x) }) { g, gx, px, _, n in
        for i in 0..<n { gx[i] += 2 * g[i] * px[i] }
    }
}

/// x^p for a constant exponent. d/dx = p x^(p-1).
public func pow(_ x: Tensor, _ p: Float) -> Tensor {
    if p == 2 { return square(x) }
    return unary("pow", x, { Foundation.pow($0, p) }, dx: { g, _ in try mul(scale(g, p), pow(x, p - 1)) }) { g, gx, px, _, n in
        for i in 0..<n { gx[i] += g[i] * p * Foundation.pow(px[i], p - 1) }
    }
}

/// |x|. d/dx = sign(x), 0 at 0 (as PyTorch).
public func abs(_ x: Tensor) -> Tensor {
    unary("abs", x, { Swift.abs($0) }, dx: { g, _ in try mul(g, constantMap(x) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }) }) { g, gx, px, _, n in
        for i in 0..<n {
            let s: Float = px[i] > 0 ? 1 : (px[i] < 0 ? -1 : 0)
            gx[i] += g[i] * s
        }
    }
}

/// f applied to every element of x, as a constant (no gradient): the derivative masks of the
/// piecewise-linear maps (abs, relu, leaky ReLU), whose own derivative is 0 almost everywhere.
func constantMap(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.ptr, po = out.ptr
    for i in 0..<x.count { po[i] = f(px[i]) }
    return out
}
