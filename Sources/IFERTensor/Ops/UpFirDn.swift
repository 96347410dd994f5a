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
    let oh = rows.outLength, ow = cols.outLength
    let y = Tensor(zeros: [n, c, oh, ow])

    kernel.withUnsafeBufferPointer { kb in
        let kp = kb.baseAddress!
        for plane in 0..<(n * c) {
            let src = x.ptr + plane * h * w, dst = y.ptr + plane * oh * ow
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

    return Autograd.record(op, output: y, inputs: [x]) { g in
        // The adjoint: every output gradient flows back along the same taps.
        let gx = x.gradOrCreate()
        kernel.withUnsafeBufferPointer { kb in
            let kp = kb.baseAddress!
            for plane in 0..<(n * c) {
                let gsrc = g.ptr + plane * oh * ow, gdst = gx.ptr + plane * h * w
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
