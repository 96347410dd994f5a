/// upfirdn2d (StyleGAN2's FIR resampling, as rosinality's upfirdn2d_native): on both spatial axes
///   1. up-sample by `up` by inserting up-1 zeros after every sample,
///   2. pad pad.0 before and pad.1 after (a negative pad crops),
///   3. convolve with the k×k FIR kernel (a true convolution: the kernel is flipped),
///   4. keep every `down`-th sample.
///
///   x: [N, C, H, W], kernel: k·k values row-major (a constant: no gradient)
///   out: [N, C, (H·up + pad.0 + pad.1 - k) / down + 1, (same for W)]
public func upfirdn2d(_ x: Tensor, kernel: [Float], k: Int, up: Int = 1, down: Int = 1, pad: (Int, Int) = (0, 0)) throws -> Tensor {
    let op = "upfirdn2d"
    let (n, c, h, w) = try nchw(x, op)
    guard k >= 1, kernel.count == k * k else {
        throw TensorError.badArgument(op: op, detail: "kernel has \(kernel.count) values, expected k*k = \(k * k) (input \(x.shape))")
    }
    guard up >= 1, down >= 1 else {
        throw TensorError.badArgument(op: op, detail: "up (\(up)) and down (\(down)) must be >= 1 (input \(x.shape))")
    }
    let rows = try FIRTaps(op: op, length: h, up: up, down: down, pad: pad, k: k, shape: x.shape)
    let cols = try FIRTaps(op: op, length: w, up: up, down: down, pad: pad, k: k, shape: x.shape)
    let plan = UpFirDn(planes: n * c, h: h, w: w, up: up, down: down, kernel: kernel, k: k, rows: rows, cols: cols)
    return plan.apply(x)
}

/// One upfirdn2d configuration: the linear map `apply` ([N, C, H, W] -> [N, C, oh, ow]) and its
/// adjoint `applyAdjoint` (back). Each op's gradient is the other one, so gradients of any order
/// stay inside this pair.
///
/// StyleGAN2's kernels are outer products of one tap list (`makeFIRKernel`), so when the kernel
/// factors as vertical ⊗ horizontal the map runs as two 1-D passes through a scratch row of W
/// floats: 2k multiply-adds an output instead of k². Planes split over the BLAS threads (each
/// plane's arithmetic is the same at any thread count).
struct UpFirDn {
    let planes: Int, h: Int, w: Int, up: Int, down: Int
    let kernel: [Float], k: Int
    let rows: FIRTaps, cols: FIRTaps
    let separable: (vertical: [Float], horizontal: [Float])?
    var oh: Int { rows.outLength }
    var ow: Int { cols.outLength }

    /// factorise: false keeps the direct k×k taps (the tests compare the two).
    init(planes: Int, h: Int, w: Int, up: Int, down: Int, kernel: [Float], k: Int, rows: FIRTaps, cols: FIRTaps, factorise: Bool = true) {
        (self.planes, self.h, self.w, self.up, self.down) = (planes, h, w, up, down)
        (self.kernel, self.k, self.rows, self.cols) = (kernel, k, rows, cols)
        separable = factorise && cols.segments != nil ? UpFirDn.factor(kernel, k) : nil
    }

    /// kernel[i·k + j] = vertical[i] · horizontal[j] to float rounding (relative 1e-6 of the
    /// largest entry), or nil. Read off the row and column through the largest entry.
    static func factor(_ kernel: [Float], _ k: Int) -> (vertical: [Float], horizontal: [Float])? {
        guard let peak = kernel.indices.max(by: { abs(kernel[$0]) < abs(kernel[$1]) }), kernel[peak] != 0 else { return nil }
        let (i0, j0) = (peak / k, peak % k)
        let vertical = (0..<k).map { kernel[$0 * k + j0] }
        let horizontal = (0..<k).map { kernel[i0 * k + $0] / kernel[peak] }
        let tol = 1e-6 * abs(kernel[peak])
        for i in 0..<k { for j in 0..<k where abs(vertical[i] * horizontal[j] - kernel[i * k + j]) > tol { return nil } }
        return (vertical, horizontal)
    }

    func apply(_ x: Tensor) -> Tensor {
        let y = Tensor(zeros: Array(x.shape.prefix(2)) + [oh, ow])
        forward(x.ptr, y.ptr)
        return Autograd.record("upfirdn2d", output: y, inputs: [x], vjp: { g, _ in [applyAdjoint(g, like: x)] }) { g in
            adjoint(g.ptr, x.gradOrCreate().ptr)
        }
    }

    func applyAdjoint(_ g: Tensor, like x: Tensor) -> Tensor {
        let gx = Tensor(zeros: x.shape)
        adjoint(g.ptr, gx.ptr)
        return Autograd.record("upfirdn2dAdjoint", output: gx, inputs: [g], vjp: { u, _ in [apply(u)] }) { u in
            forward(u.ptr, g.gradOrCreate().ptr)
        }
    }

    /// y += upfirdn(x), plane by plane.
    func forward(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>) {
        let (h, w, oh, ow) = (h, w, oh, ow)
        if let (vertical, horizontal) = separable, let segments = cols.segments {
            eachPlaneWithScratch { plane, trow in
                let src = xp + plane * h * w, dst = yp + plane * oh * ow
                for oy in 0..<oh {
                    // t = Σ_taps vertical · x[row, :], then y[oy, :] += the horizontal taps of t.
                    trow.update(repeating: 0, count: w)
                    for ty in rows.taps(oy) { axpy(vertical[rows.kernel[ty]], src + rows.input[ty] * w, trow, w) }
                    for sg in segments { gatherSegment(sg, horizontal[sg.kernel], from: trow, into: dst + oy * ow) }
                }
            }
            return
        }
        eachPlaneWithScratch { plane, _ in
            let src = xp + plane * h * w, dst = yp + plane * oh * ow
            for oy in 0..<oh {
                let yrow = dst + oy * ow
                for ty in rows.taps(oy) {
                    let xrow = src + rows.input[ty] * w, krow = rows.kernel[ty] * k
                    if let segments = cols.segments {
                        // Each kernel value is one strided axpy along the row.
                        for sg in segments { gatherSegment(sg, kernel[krow + sg.kernel], from: xrow, into: yrow) }
                    } else {
                        for ox in 0..<ow {
                            var acc: Float = 0
                            for tx in cols.taps(ox) { acc += xrow[cols.input[tx]] * kernel[krow + cols.kernel[tx]] }
                            yrow[ox] += acc
                        }
                    }
                }
            }
        }
    }

    /// gx += upfirdn^T(g): every output gradient flows back along the same taps.
    func adjoint(_ gp: UnsafePointer<Float>, _ gxp: UnsafeMutablePointer<Float>) {
        let (h, w, oh, ow) = (h, w, oh, ow)
        if let (vertical, horizontal) = separable, let segments = cols.segments {
            eachPlaneWithScratch { plane, trow in
                let gsrc = gp + plane * oh * ow, gdst = gxp + plane * h * w
                for oy in 0..<oh {
                    // The two passes in reverse: t = horizontal^T g[oy, :], then gx rows += vertical · t.
                    trow.update(repeating: 0, count: w)
                    for sg in segments { scatterSegment(sg, horizontal[sg.kernel], from: gsrc + oy * ow, into: trow) }
                    for ty in rows.taps(oy) { axpy(vertical[rows.kernel[ty]], UnsafePointer(trow), gdst + rows.input[ty] * w, w) }
                }
            }
            return
        }
        eachPlaneWithScratch { plane, _ in
            let gsrc = gp + plane * oh * ow, gdst = gxp + plane * h * w
            for oy in 0..<oh {
                let grow = gsrc + oy * ow
                for ty in rows.taps(oy) {
                    let xrow = gdst + rows.input[ty] * w, krow = rows.kernel[ty] * k
                    if let segments = cols.segments {
                        for sg in segments { scatterSegment(sg, kernel[krow + sg.kernel], from: grow, into: xrow) }
                    } else {
                        for ox in 0..<ow {
                            let gv = grow[ox]
                            for tx in cols.taps(ox) { xrow[cols.input[tx]] += gv * kernel[krow + cols.kernel[tx]] }
                        }
                    }
                }
            }
        }
    }

    /// body(plane, scratch) for every plane, the planes split over the compute threads; scratch
    /// is a row of W floats of each thread's own (the vertical pass's result for one output row).
    private func eachPlaneWithScratch(_ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        Threads.parallel(planes, work: oh * ow * 2 * k) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: separable == nil ? 1 : w)
            defer { scratch.deallocate() }
            for plane in range { body(plane, scratch) }
        }
    }

    /// y[phase + up·m] += kv · x[at + down·m] for m in lo..<hi (one kernel value along a row).
    @inline(__always) private func gatherSegment(_ sg: FIRTaps.Segment, _ kv: Float, from x: UnsafePointer<Float>,
                                                 into y: UnsafeMutablePointer<Float>) {
        let xs = x + sg.at, ys = y + sg.phase
        switch (up, down) {
        case (1, 1): for m in sg.lo..<sg.hi { ys[m] += kv * xs[m] }
        case (1, _): for m in sg.lo..<sg.hi { ys[m] += kv * xs[m * down] }
        default: for m in sg.lo..<sg.hi { ys[m * up] += kv * xs[m * down] }
        }
    }

    /// The adjoint of gatherSegment: x[at + down·m] += kv · y[phase + up·m].
    @inline(__always) private func scatterSegment(_ sg: FIRTaps.Segment, _ kv: Float, from y: UnsafePointer<Float>,
                                                  into x: UnsafeMutablePointer<Float>) {
        let xs = x + sg.at, ys = y + sg.phase
        switch (up, down) {
        case (1, 1): for m in sg.lo..<sg.hi { xs[m] += kv * ys[m] }
        case (1, _): for m in sg.lo..<sg.hi { xs[m * down] += kv * ys[m] }
        default: for m in sg.lo..<sg.hi { xs[m * down] += kv * ys[m * up] }
        }
    }

    /// y[0..<n] += a · x[0..<n]
    @inline(__always) private func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += a * x[i] }
    }
}

/// The non-zero taps of upfirdn along one axis: output o reads input samples `input[t]` with
/// kernel index `kernel[t]` for t in taps(o). Zero-inserted and padded samples have no tap.
struct FIRTaps {
    let outLength: Int
    private(set) var start: [Int] = [0]
    private(set) var input: [Int] = []
    private(set) var kernel: [Int] = []
    /// One kernel index along a row: outputs phase + up·m meet inputs at + down·m for m in lo..<hi.
    struct Segment { let kernel: Int, lo: Int, hi: Int, at: Int, phase: Int }
    /// The taps as such runs, one per (output phase, kernel index), when up or down is 1 (nil when
    /// both exceed 1: the taps are irregular).
    private(set) var segments: [Segment]? = nil

    init(op: String, length: Int, up: Int, down: Int, pad: (Int, Int), k: Int, shape: [Int]) throws {
        let padded = length * up + pad.0 + pad.1
        guard padded >= k else {
            throw TensorError.shapeMismatch(op: op, shapes: [shape, [k, k]],
                detail: "kernel \(k)x\(k) is larger than the up-sampled, padded length \(padded) (up \(up), pad \(pad))")
        }
        outLength = (padded - k) / down + 1
        for o in 0..<outLength {
            // Correlation with the flipped kernel: padded sample o·down + i meets kernel[k-1-i].
            for i in 0..<k {
                let u = o * down + i - pad.0          // index in the zero-inserted signal
                if u < 0 || u >= length * up || u % up != 0 { continue }
                input.append(u / up)
                kernel.append(k - 1 - i)
            }
            start.append(input.count)
        }
        if up == 1 {
            var runs: [Segment] = []
            for i in 0..<k {
                let at = i - pad.0
                // 0 <= m·down + at < length
                let lo = at >= 0 ? 0 : (-at + down - 1) / down
                let hi = length - 1 - at < 0 ? 0 : min(outLength, (length - 1 - at) / down + 1)
                if hi > lo { runs.append(Segment(kernel: k - 1 - i, lo: lo, hi: hi, at: at, phase: 0)) }
            }
            segments = runs
        } else if down == 1 {
            // Output phase + up·m reads zero-inserted sample phase + up·m + i − pad.0: a real sample
            // (input m + q) only when phase + i − pad.0 = up·q.
            var runs: [Segment] = []
            for phase in 0..<min(up, outLength) {
                let outputs = (outLength - phase + up - 1) / up
                for i in 0..<k {
                    let d = phase + i - pad.0
                    guard d % up == 0 else { continue }
                    let q = d / up                     // exact: d is a multiple of up
                    let lo = max(0, -q), hi = min(outputs, length - q)
                    if hi > lo { runs.append(Segment(kernel: k - 1 - i, lo: lo, hi: hi, at: q, phase: phase)) }
                }
            }
            segments = runs
        }
    }

    @inline(__always) func taps(_ o: Int) -> Range<Int> { start[o]..<start[o + 1] }
}
