/// 2-D convolution (cross-correlation, as in PyTorch) over NCHW images, weight OIHW.
///
///   x: [N, C, H, W], weight: [O, C/groups, kh, kw], bias: [O]
///   out: [N, O, (H + 2p - kh)/s + 1, (W + 2p - kw)/s + 1]
///
/// Dense, grouped and depthwise (groups = C) convolutions share one path: each group is a GEMM
/// of its weight [O/g, C/g·kh·kw] with the unfolded input (im2col) [C/g·kh·kw, positions].
/// Depthwise-like convs (one input channel per group) use direct loops instead, because a GEMM
/// with an inner dimension of kh·kw wastes most of its time packing.
///
/// 3×3 stride-1 ungrouped convolutions with enough channels and output tiles take the Winograd
/// F(4×4, 3×3) path instead (Winograd.swift), about 2x faster on the benchmark convs.
///
/// Speed: the GEMMs run on tiles of ~256 columns whose column buffer stays in L2 (see
/// ConvShape.forEachTile); 1×1 stride-1 convs read the input in place. On the build machine,
/// one BLAS thread, 3x3 64->64 batch 8 forward + backward (dX, dW, bias) ran at a median of
/// about 57-59 GFLOP/s at 32x32 and 58-61 at 64x64 through im2col (Winograd: ~100-110
/// "direct-equivalent" GFLOP/s; PyTorch CPU, same count: 45-55).
public func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                   groups: Int = 1) throws -> Tensor {
    let op = "conv2d"
    let (n, c, h, w) = try nchw(x, op)
    guard weight.rank == 4 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, weight.shape], detail: "weight must be [O, C/groups, kh, kw]")
    }
    let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    guard groups >= 1, c % groups == 0, o % groups == 0 else {
        throw TensorError.badArgument(op: op, detail: "groups \(groups) must divide input channels \(c) and output channels \(o) (input \(x.shape), weight \(weight.shape))")
    }
    try check(cg == c / groups, op, [x.shape, weight.shape], "weight has \(cg) input channels per group, expected \(c / groups)")
    if let b = bias { try check(b.shape == [o], op, [weight.shape, b.shape], "bias must be [\(o)]") }
    let win = try Window(op: op, shape: x.shape, channels: cg, height: h, width: w, kh: kh, kw: kw, stride: stride, padding: padding)
    let shape = ConvShape(batch: n, groups: groups, outChannels: o, win: win)

    let y = Tensor(zeros: [n, o, win.outH, win.outW])
    convForward(shape, x.ptr, weight.ptr, y.ptr)
    if let b = bias { addChannelBias(y.ptr, b.ptr, batch: n, channels: o, plane: win.positions) }

    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Autograd.record(op, output: y, inputs: inputs, vjp: { g, needs in
        // Differentiable backward (ConvGrad.swift): dX = conv^T(g, w), dW = g ⋆ x, db = Σ g.
        [needs[0] ? convInputGrad(g, weight, shape) : nil,
         needs[1] ? convWeightGrad(x, g, shape) : nil] + (bias == nil ? [] : [try sum(g, axes: [0, 2, 3])])
    }) { g in
        if let b = bias, b.requiresGrad {
            sumChannelGrad(g.ptr, b.gradOrCreate().ptr, batch: n, channels: o, plane: win.positions)
        }
        convBackward(shape, x: x.ptr, weight: weight.ptr, gradOut: g.ptr,
                     gradX: x.requiresGrad ? x.gradOrCreate().ptr : nil,
                     gradW: weight.requiresGrad ? weight.gradOrCreate().ptr : nil)
    }
}

/// The sizes of one (possibly grouped) convolution: `win` describes a single group's input
/// planes (C/groups channels) and the output grid.
struct ConvShape {
    let batch: Int
    let groups: Int
    let outChannels: Int
    let win: Window

    var outGroup: Int { outChannels / groups }        // O / groups
    var inGroupSize: Int { win.channels * win.height * win.width }
    var inSample: Int { groups * inGroupSize }
    var outSample: Int { outChannels * win.positions }
    /// One input channel per group: direct loops instead of GEMMs.
    var direct: Bool { win.channels == 1 }
    /// 1×1, stride 1, no padding: the input already is its own im2col matrix.
    var pointwise: Bool { win.kh == 1 && win.kw == 1 && win.stride == 1 && win.padding == 0 }

    /// Tests set this to force tiny tiles; nil picks `columnsPerTile` from the sizes.
    static var tileColumns: Int? = nil

    /// GEMM columns per tile: a column buffer of about 512 KB (half of L2) so it stays in cache
    /// between im2col and the GEMM, but never under 256 columns, which OpenBLAS needs to run near
    /// its peak (measured on the 64-channel 3x3 benchmark convs: 256-512 beat 1024 and whole images).
    var columnsPerTile: Int { ConvShape.tileColumns ?? max(256, (1 << 17) / max(1, win.patchSize)) }

    /// The GEMM tiles: `m` whole samples side by side when images are small (so GEMMs still get
    /// about `columnsPerTile` columns), or a band of output rows of one sample when they are large.
    /// Calls body(n0, m, rows) for samples n0..<n0+m and output rows `rows` of each.
    func forEachTile(_ body: (Int, Int, Range<Int>) -> Void) {
        let target = columnsPerTile
        let p = win.positions
        if p >= target {
            let band = max(1, target / win.outW)
            for n in 0..<batch {
                for r0 in stride(from: 0, to: win.outH, by: band) { body(n, 1, r0..<min(win.outH, r0 + band)) }
            }
        } else {
            let nb = max(1, target / max(1, p))
            for n0 in stride(from: 0, to: batch, by: nb) { body(n0, min(nb, batch - n0), 0..<win.outH) }
        }
    }

    /// Floats of column buffer (and of the gather buffer for multi-sample tiles) one tile needs.
    var tileBuffers: (col: Int, gather: Int) {
        let target = columnsPerTile, p = win.positions
        if p >= target {
            let band = max(1, target / win.outW)
            return (pointwise ? 0 : win.patchSize * min(win.outH, band) * win.outW, 0)
        }
        let nb = min(batch, max(1, target / max(1, p)))
        return (win.patchSize * nb * p, nb > 1 ? outGroup * nb * p : 0)
    }
}

/// y [N, O, P] += conv(x, w). Used by conv2d's forward and convTranspose2d's backward.
///
/// Per tile and group: col [k, m·cols] = im2col(x), then y [og, m·cols] += w [og, k] · col.
func convForward(_ s: ConvShape, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    if s.direct { return directForward(s, x, w, y) }
    if Winograd.applies(s) { return Winograd(s).forward(x, w, y) }
    let win = s.win, k = win.patchSize, p = win.positions, og = s.outGroup
    let sizes = s.tileBuffers
    let col = Scratch(sizes.col), tmp = Scratch(sizes.gather)
    s.forEachTile { n0, m, rows in
        let cols = rows.count * win.outW, ld = m * cols, first = rows.lowerBound * win.outW
        for g in 0..<s.groups {
            let wg = w + g * og * k
            let xg = x + n0 * s.inSample + g * s.inGroupSize
            let yg = y + n0 * s.outSample + g * og * p + first
            if s.pointwise && m == 1 {
                // The input rows are the columns already: no unfolding.
                sgemm(transA: false, transB: false, m: og, n: cols, k: k, a: wg, lda: k, b: xg + first, ldb: p, beta: 1, c: yg, ldc: p)
                continue
            }
            for i in 0..<m { win.im2col(xg + i * s.inSample, col.ptr + i * cols, ld: ld, rows: rows) }
            if m == 1 {
                sgemm(transA: false, transB: false, m: og, n: cols, k: k, a: wg, lda: k, b: col.ptr, ldb: ld, beta: 1, c: yg, ldc: p)
            } else {
                // [og, m·p] result, then each sample's [og, p] block is added to its place in y.
                sgemm(transA: false, transB: false, m: og, n: ld, k: k, a: wg, lda: k, b: col.ptr, ldb: ld, beta: 0, c: tmp.ptr, ldc: ld)
                let t = tmp.ptr
                Threads.parallel(og, work: m * p) { filters in
                    for i in 0..<m {
                        for r in filters {
                            let src = t + r * ld + i * p, dst = yg + i * s.outSample + r * p
                            for j in 0..<p { dst[j] += src[j] }
                        }
                    }
                }
            }
        }
    }
}

/// Gradients of y = conv(x, w) given gy = dL/dy: gradX += conv^T(gy, w) and gradW += gy ⋆ x
/// (either may be nil). convTranspose2d's forward is the gradX half of this.
///
/// Per tile and group: gW [og, k] += gy [og, m·cols] · im2col(x)^T, then the same column buffer
/// takes dcol [k, m·cols] = w^T · gy, which col2im folds back onto gradX.
func convBackward(_ s: ConvShape, x: UnsafePointer<Float>?, weight w: UnsafePointer<Float>, gradOut gy: UnsafePointer<Float>,
                  gradX: UnsafeMutablePointer<Float>?, gradW: UnsafeMutablePointer<Float>?) {
    if gradX == nil && gradW == nil { return }
    if s.direct { return directBackward(s, x: x, weight: w, gradOut: gy, gradX: gradX, gradW: gradW) }
    if Winograd.applies(s) { return Winograd(s).backward(x: x, weight: w, gradOut: gy, gradX: gradX, gradW: gradW) }
    let win = s.win, k = win.patchSize, p = win.positions, og = s.outGroup
    let sizes = s.tileBuffers
    let col = Scratch(sizes.col), tmp = Scratch(sizes.gather)
    s.forEachTile { n0, m, rows in
        let cols = rows.count * win.outW, first = rows.lowerBound * win.outW
        for g in 0..<s.groups {
            // This group's output gradient as one [og, m·cols] matrix (row stride ldg).
            var gyg = gy + n0 * s.outSample + g * og * p + first
            var ldg = p
            if m > 1 {
                for i in 0..<m {
                    for r in 0..<og {
                        (tmp.ptr + r * m * cols + i * cols).update(from: gyg + i * s.outSample + r * p, count: cols)
                    }
                }
                gyg = UnsafePointer(tmp.ptr)
                ldg = m * cols
            }
            let ld = m * cols
            let xoff = n0 * s.inSample + g * s.inGroupSize
            if s.pointwise && m == 1 {
                if let gw = gradW, let x {
                    sgemm(transA: false, transB: true, m: og, n: k, k: cols, a: gyg, lda: ldg, b: x + xoff + first, ldb: p,
                          beta: 1, c: gw + g * og * k, ldc: k)
                }
                if let gx = gradX {
                    sgemm(transA: true, transB: false, m: k, n: cols, k: og, a: w + g * og * k, lda: k, b: gyg, ldb: ldg,
                          beta: 1, c: gx + xoff + first, ldc: p)
                }
                continue
            }
            if let gw = gradW, let x {
                for i in 0..<m { win.im2col(x + xoff + i * s.inSample, col.ptr + i * cols, ld: ld, rows: rows) }
                sgemm(transA: false, transB: true, m: og, n: k, k: ld, a: gyg, lda: ldg, b: col.ptr, ldb: ld,
                      beta: 1, c: gw + g * og * k, ldc: k)
            }
            if let gx = gradX {
                sgemm(transA: true, transB: false, m: k, n: ld, k: og, a: w + g * og * k, lda: k, b: gyg, ldb: ldg,
                      beta: 0, c: col.ptr, ldc: ld)
                for i in 0..<m { win.col2im(col.ptr + i * cols, ld: ld, gx + xoff + i * s.inSample, rows: rows) }
            }
        }
    }
}

// MARK: - Depthwise-like convolutions (one input channel per group), direct loops

/// y += conv(x, w) when each output channel o reads the single input channel o / (O/groups).
private func directForward(_ s: ConvShape, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    let win = s.win, hw = win.height * win.width, p = win.positions, st = win.stride
    let spans = (0..<win.kw).map { win.validColumns($0) }
    for n in 0..<s.batch {
        for o in 0..<s.outChannels {
            let src = x + n * s.inSample + (o / s.outGroup) * hw
            let dst = y + n * s.outSample + o * p
            let wo = w + o * win.kh * win.kw
            for oh in 0..<win.outH {
                let yrow = dst + oh * win.outW
                for ki in 0..<win.kh {
                    let ih = oh * st - win.padding + ki
                    if ih < 0 || ih >= win.height { continue }
                    for kj in 0..<win.kw {
                        let (lo, hi) = spans[kj]
                        let wv = wo[ki * win.kw + kj]
                        let line = src + ih * win.width + kj - win.padding
                        if st == 1 {
                            for j in lo..<hi { yrow[j] += wv * line[j] }
                        } else {
                            for j in lo..<hi { yrow[j] += wv * line[j * st] }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint loops of directForward: gradX += w^T gy, gradW += gy ⋆ x. The weight gradient
/// is gathered per tap as a row of partial sums (elementwise, so it vectorises) and reduced once
/// per (sample, channel).
private func directBackward(_ s: ConvShape, x: UnsafePointer<Float>?, weight w: UnsafePointer<Float>, gradOut gy: UnsafePointer<Float>,
                            gradX: UnsafeMutablePointer<Float>?, gradW: UnsafeMutablePointer<Float>?) {
    let win = s.win, hw = win.height * win.width, p = win.positions, st = win.stride, kk = win.kh * win.kw, ow = win.outW
    let partial = Scratch(gradW != nil ? kk * ow : 0)
    let spans = (0..<win.kw).map { win.validColumns($0) }
    for n in 0..<s.batch {
        for o in 0..<s.outChannels {
            let c = o / s.outGroup
            let g = gy + n * s.outSample + o * p
            if gradW != nil { partial.ptr.update(repeating: 0, count: kk * ow) }
            for oh in 0..<win.outH {
                let grow = g + oh * ow
                for ki in 0..<win.kh {
                    let ih = oh * st - win.padding + ki
                    if ih < 0 || ih >= win.height { continue }
                    for kj in 0..<win.kw {
                        let (lo, hi) = spans[kj]
                        if hi <= lo { continue }
                        let at = n * s.inSample + c * hw + ih * win.width + kj - win.padding
                        if let gx = gradX {
                            let wv = w[o * kk + ki * win.kw + kj]
                            let line = gx + at
                            if st == 1 {
                                for j in lo..<hi { line[j] += wv * grow[j] }
                            } else {
                                for j in lo..<hi { line[j * st] += wv * grow[j] }
                            }
                        }
                        if gradW != nil, let x {
                            let line = x + at, acc = partial.ptr + (ki * win.kw + kj) * ow
                            if st == 1 {
                                for j in lo..<hi { acc[j] += grow[j] * line[j] }
                            } else {
                                for j in lo..<hi { acc[j] += grow[j] * line[j * st] }
                            }
                        }
                    }
                }
            }
            if let gw = gradW {
                for t in 0..<kk { gw[o * kk + t] += sumOf(partial.ptr + t * ow, ow) }
            }
        }
    }
}

// MARK: - Per-channel bias, shared with convTranspose2d

/// y [N, C, plane] += b [C].
func addChannelBias(_ y: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            let row = y + (n * channels + c) * plane, v = b[c]
            for j in 0..<plane { row[j] += v }
        }
    }
}

/// gb [C] += sum over N and the plane of g [N, C, plane].
func sumChannelGrad(_ g: UnsafePointer<Float>, _ gb: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    for n in 0..<batch {
        for c in 0..<channels {
            gb[c] += sumOf(g + (n * channels + c) * plane, plane)
        }
    }
}

/// Sum of n floats with eight running partial sums (one SIMD register's worth), so the loop
/// vectorises; a single accumulator would serialise on the add latency.
@inline(__always)
func sumOf(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        acc += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var total = acc.sum()
    while j < n { total += p[j]; j += 1 }
    return total
}
