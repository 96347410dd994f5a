/// Pooling over NCHW images, PyTorch semantics (floor mode; padding at most half the kernel).
///
///   maxPool2d / avgPool2d:  [N, C, H, W] -> [N, C, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1]
///   adaptiveAvgPool2d:      [N, C, H, W] -> [N, C, oh, ow]

/// Max over each k×k window (padding never wins). Backward routes each output gradient to the
/// input that held the maximum (the first one, in row-major order, on ties).
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
    let op = "maxPool2d"
    let (n, c, h, w) = try nchw(x, op)
    let win = try poolWindow(op, x.shape, h, w, kernel, stride ?? kernel, padding)
    let oh = win.outH, ow = win.outW, s = win.stride
    let y = Tensor(zeros: [n, c, oh, ow])
    // Flat index (within its plane) of the winning input of every output, for backward.
    let argmax = IndexTable(n * c * oh * ow)
    for plane in 0..<(n * c) {
        let src = x.ptr + plane * h * w, dst = y.ptr + plane * oh * ow, arg = argmax.ptr + plane * oh * ow
        for oy in 0..<oh {
            let y0 = max(0, oy * s - padding), y1 = min(h, oy * s - padding + kernel)
            for ox in 0..<ow {
                let x0 = max(0, ox * s - padding), x1 = min(w, ox * s - padding + kernel)
                var best = -Float.infinity, at = y0 * w + x0
                for iy in y0..<y1 {
                    for ix in x0..<x1 {
                        let v = src[iy * w + ix]
                        if v > best || v.isNaN { best = v; at = iy * w + ix }
                    }
                }
                dst[oy * ow + ox] = best
                arg[oy * ow + ox] = at
            }
        }
    }
    return Autograd.record(op, output: y, inputs: [x]) { g in
        let gx = x.gradOrCreate()
        for plane in 0..<(n * c) {
            let gsrc = g.ptr + plane * oh * ow, gdst = gx.ptr + plane * h * w
            let arg = argmax.ptr + plane * oh * ow
            for j in 0..<(oh * ow) { gdst[arg[j]] += gsrc[j] }
        }
    }
}

/// Mean over each k×k window, counting padded positions as zeros (PyTorch's default
/// count_include_pad=True): the divisor is the window's size clipped to the padded input.
public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
    let op = "avgPool2d"
    let (_, _, h, w) = try nchw(x, op)
    let win = try poolWindow(op, x.shape, h, w, kernel, stride ?? kernel, padding)
    let s = win.stride
    func span(_ o: Int, _ size: Int, _ outSize: Int) -> (Int, Int, Int) {
        let start = o * s - padding, end = min(start + kernel, size + padding)
        return (max(0, start), min(size, end), end - start)
    }
    return try windowAverage(op, x, outH: win.outH, outW: win.outW,
                             rows: { span($0, h, win.outH) }, cols: { span($0, w, win.outW) })
}

/// Averages over the windows PyTorch's adaptive_avg_pool2d uses: output i of n covers input
/// [floor(i·L/n), ceil((i+1)·L/n)).
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) throws -> Tensor {
    let op = "adaptiveAvgPool2d"
    let (_, _, h, w) = try nchw(x, op)
    let (oh, ow) = outputSize
    guard oh >= 1, ow >= 1 else {
        throw TensorError.badArgument(op: op, detail: "output size (\(oh), \(ow)) must be positive (input \(x.shape))")
    }
    guard h >= 1, w >= 1 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "input plane is empty")
    }
    func span(_ o: Int, _ size: Int, _ outSize: Int) -> (Int, Int, Int) {
        let start = o * size / outSize, end = ((o + 1) * size + outSize - 1) / outSize
        return (start, end, end - start)
    }
    return try windowAverage(op, x, outH: oh, outW: ow, rows: { span($0, h, oh) }, cols: { span($0, w, ow) })
}

/// Checks pooling arguments (PyTorch's rules) and returns the window geometry.
private func poolWindow(_ op: String, _ shape: [Int], _ h: Int, _ w: Int, _ kernel: Int, _ stride: Int, _ padding: Int) throws -> Window {
    guard kernel >= 1 else { throw TensorError.badArgument(op: op, detail: "kernel \(kernel) must be >= 1 (input \(shape))") }
    guard padding <= kernel / 2 else {
        throw TensorError.badArgument(op: op, detail: "padding \(padding) must be at most half the kernel \(kernel) (input \(shape))")
    }
    return try Window(op: op, shape: shape, channels: 1, height: h, width: w, kh: kernel, kw: kernel, stride: stride, padding: padding)
}

/// out[oy, ox] = sum of x over rows [r0, r1) × cols [c0, c1) / (rowCount · colCount), where
/// rows(oy) = (r0, r1, rowCount) and cols(ox) = (c0, c1, colCount). Backward spreads each output
/// gradient evenly over its window.
private func windowAverage(_ op: String, _ x: Tensor, outH oh: Int, outW ow: Int,
                           rows: (Int) -> (Int, Int, Int), cols: (Int) -> (Int, Int, Int)) throws -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let rs = (0..<oh).map(rows), cs = (0..<ow).map(cols)
    let y = Tensor(zeros: [n, c, oh, ow])
    for plane in 0..<(n * c) {
        let src = x.ptr + plane * h * w, dst = y.ptr + plane * oh * ow
        for oy in 0..<oh {
            let (y0, y1, ny) = rs[oy]
            for ox in 0..<ow {
                let (x0, x1, nx) = cs[ox]
                var acc: Float = 0
                for iy in y0..<y1 { for ix in x0..<x1 { acc += src[iy * w + ix] } }
                dst[oy * ow + ox] = acc / Float(ny * nx)
            }
        }
    }
    return Autograd.record(op, output: y, inputs: [x]) { g in
        let gx = x.gradOrCreate()
        for plane in 0..<(n * c) {
            let gsrc = g.ptr + plane * oh * ow, gdst = gx.ptr + plane * h * w
            for oy in 0..<oh {
                let (y0, y1, ny) = rs[oy]
                for ox in 0..<ow {
                    let (x0, x1, nx) = cs[ox]
                    let v = gsrc[oy * ow + ox] / Float(ny * nx)
                    for iy in y0..<y1 { for ix in x0..<x1 { gdst[iy * w + ix] += v } }
                }
            }
        }
    }
}
