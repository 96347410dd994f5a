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
    let plan = UpFirDn(planes: n * c, h: h, w: w, down: down, kernel: kernel, k: k, rows: rows, cols: cols)
    return plan.apply(x)
}

/// One upfirdn2d configuration: the linear map `apply` ([N, C, H, W] -> [N, C, oh, ow]) and its
/// adjoint `applyAdjoint` (back). Each op's gradient is the other one, so gradients of any order
/// stay inside this pair.
struct UpFirDn {
    let planes: Int, h: Int, w: Int, down: Int
    let kernel: [Float], k: Int
    let rows: FIRTaps, cols: FIRTaps
    var oh: Int { rows.outLength }
    var ow: Int { cols.outLength }

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
        let (h, w, oh, ow, k, down, rows, cols) = (h, w, oh, ow, k, down, rows, cols)
        kernel.withUnsafeBufferPointer { kb in
            let kp = kb.baseAddress!
            for plane in 0..<planes {
                let src = xp + plane * h * w, dst = yp + plane * oh * ow
                for oy in 0..<oh {
                    let yrow = dst + oy * ow
                    for ty in rows.taps(oy) {
                        let xrow = src + rows.input[ty] * w, krow = kp + rows.kernel[ty] * k
                        if let segments = cols.segments {
                            // Without up-sampling each kernel value is one strided axpy along the row.
                            for sg in segments {
                                let kv = krow[sg.kernel], xs = xrow + sg.at
                                if down == 1 {
                                    for ox in sg.lo..<sg.hi { yrow[ox] += kv * xs[ox] }
                                } else {
                                    for ox in sg.lo..<sg.hi { yrow[ox] += kv * xs[ox * down] }
                                }
                            }
                        } else {
                            for ox in 0..<ow {
                                var acc: Float = 0
                                for tx in cols.taps(ox) { acc += xrow[cols.input[tx]] * krow[cols.kernel[tx]] }
                                yrow[ox] += acc
                            }
                        }
                    }
                }
            }
        }
    }

    /// gx += upfirdn^T(g): every output gradient flows back along the same taps.
    func adjoint(_ gp: UnsafePointer<Float>, _ gxp: UnsafeMutablePointer<Float>) {
        let (h, w, oh, ow, k, down, rows, cols) = (h, w, oh, ow, k, down, rows, cols)
        kernel.withUnsafeBufferPointer { kb in
            let kp = kb.baseAddress!
            for plane in 0..<planes {
                let gsrc = gp + plane * oh * ow, gdst = gxp + plane * h * w
                for oy in 0..<oh {
                    let grow = gsrc + oy * ow
                    for ty in rows.taps(oy) {
                        let xrow = gdst + rows.input[ty] * w, krow = kp + rows.kernel[ty] * k
                        if let segments = cols.segments {
                            for sg in segments {
                                let kv = krow[sg.kernel], xs = xrow + sg.at
                                if down == 1 {
                                    for ox in sg.lo..<sg.hi { xs[ox] += kv * grow[ox] }
                                } else {
                                    for ox in sg.lo..<sg.hi { xs[ox * down] += kv * grow[ox] }
                                }
                            }
                        } else {
                            for ox in 0..<ow {
                                let gv = grow[ox]
                                for tx in cols.taps(ox) { xrow[cols.input[tx]] += gv * krow[cols.kernel[tx]] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The non-zero taps of upfirdn along one axis: output o reads input samples `input[t]` with
/// kernel index `kernel[t]` for t in taps(o). Zero-inserted and padded samples have no tap.
struct FIRTaps {
    let outLength: Int
    private(set) var start: [Int] = [0]
    private(set) var input: [Int] = []
    private(set) var kernel: [Int] = []
    /// Without up-sampling, kernel index `kernel` meets input o·down + at for every output o in
    /// lo..<hi: one strided run per kernel index (nil when up > 1: the taps are irregular).
    private(set) var segments: [(kernel: Int, lo: Int, hi: Int, at: Int)]? = nil

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
            var runs: [(kernel: Int, lo: Int, hi: Int, at: Int)] = []
            for i in 0..<k {
                let at = i - pad.0
                // 0 <= o·down + at < length
                let lo = at >= 0 ? 0 : (-at + down - 1) / down
                let hi = length - 1 - at < 0 ? 0 : min(outLength, (length - 1 - at) / down + 1)
                if hi > lo { runs.append((k - 1 - i, lo, hi, at)) }
            }
            segments = runs
        }
    }

    @inline(__always) func taps(_ o: Int) -> Range<Int> { start[o]..<start[o + 1] }
}
