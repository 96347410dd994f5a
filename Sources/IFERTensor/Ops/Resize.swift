/// Image resizing, matching F.interpolate.
///
///   resizeBilinear:  [N, C, H, W] -> [N, C, height, width]   (mode="bilinear", size=(height, width))
///   upsampleNearest: [N, C, H, W] -> [N, C, H·s, W·s]        (mode="nearest", scale_factor=s)

/// Bilinear resize. alignCorners=true maps the corner pixels onto each other (src = dst·(in-1)/(out-1));
/// false maps pixel centres (src = (dst + 0.5)·in/out - 0.5, clamped at 0), as PyTorch does.
public func resizeBilinear(_ x: Tensor, height: Int, width: Int, alignCorners: Bool) throws -> Tensor {
    let op = "resizeBilinear"
    let (n, c, h, w) = try nchw(x, op)
    guard height >= 1, width >= 1 else {
        throw TensorError.badArgument(op: op, detail: "output size \(height)x\(width) must be positive (input \(x.shape))")
    }
    guard h >= 1, w >= 1 else { throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "input plane is empty") }
    let ry = LinearTaps(input: h, output: height, alignCorners: alignCorners)
    let rx = LinearTaps(input: w, output: width, alignCorners: alignCorners)
    let y = Tensor(zeros: [n, c, height, width])
    let iy = ry.index.ptr, ay = ry.weight.ptr, ix = rx.index.ptr, ax = rx.weight.ptr
    for plane in 0..<(n * c) {
        let src = x.ptr + plane * h * w, dst = y.ptr + plane * height * width
        for oy in 0..<height {
            let r0 = src + iy[2 * oy] * w, r1 = src + iy[2 * oy + 1] * w
            let a0 = ay[2 * oy], a1 = ay[2 * oy + 1]
            let out = dst + oy * width
            for ox in 0..<width {
                let j0 = ix[2 * ox], j1 = ix[2 * ox + 1], b0 = ax[2 * ox], b1 = ax[2 * ox + 1]
                out[ox] = a0 * (b0 * r0[j0] + b1 * r0[j1]) + a1 * (b0 * r1[j0] + b1 * r1[j1])
            }
        }
    }
    return Autograd.record(op, output: y, inputs: [x]) { g in
        let gx = x.gradOrCreate()
        let iy = ry.index.ptr, ay = ry.weight.ptr, ix = rx.index.ptr, ax = rx.weight.ptr
        for plane in 0..<(n * c) {
            let gsrc = g.ptr + plane * height * width, gdst = gx.ptr + plane * h * w
            for oy in 0..<height {
                let r0 = gdst + iy[2 * oy] * w, r1 = gdst + iy[2 * oy + 1] * w
                let a0 = ay[2 * oy], a1 = ay[2 * oy + 1]
                let grow = gsrc + oy * width
                for ox in 0..<width {
                    let j0 = ix[2 * ox], j1 = ix[2 * ox + 1], b0 = ax[2 * ox], b1 = ax[2 * ox + 1], v = grow[ox]
                    r0[j0] += a0 * b0 * v; r0[j1] += a0 * b1 * v
                    r1[j0] += a1 * b0 * v; r1[j1] += a1 * b1 * v
                }
            }
        }
    }
}

/// For each output index o along one axis: the two input neighbours index[2o], index[2o+1] and
/// their weights weight[2o], weight[2o+1].
struct LinearTaps {
    let index: IndexTable
    let weight: Scratch

    init(input: Int, output: Int, alignCorners: Bool) {
        index = IndexTable(2 * output)
        weight = Scratch(2 * output)
        // Same arithmetic as PyTorch's area_pixel_compute_source_index (float32 scale).
        let scale: Float = alignCorners ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
                                        : Float(input) / Float(output)
        for o in 0..<output {
            let src = alignCorners ? scale * Float(o) : max(0, scale * (Float(o) + 0.5) - 0.5)
            let lo = min(Int(src), input - 1)
            let frac = src - Float(lo)
            index.ptr[2 * o] = lo
            index.ptr[2 * o + 1] = lo < input - 1 ? lo + 1 : lo
            weight.ptr[2 * o] = 1 - frac
            weight.ptr[2 * o + 1] = frac
        }
    }
}

/// Nearest-neighbour up-sampling by an integer factor: output (oy, ox) copies input
/// (oy / scale, ox / scale). Backward sums each scale×scale block of gradients.
public func upsampleNearest(_ x: Tensor, scale: Int) throws -> Tensor {
    let op = "upsampleNearest"
    let (n, c, h, w) = try nchw(x, op)
    guard scale >= 1 else { throw TensorError.badArgument(op: op, detail: "scale \(scale) must be >= 1 (input \(x.shape))") }
    let oh = h * scale, ow = w * scale
    let y = Tensor(zeros: [n, c, oh, ow])
    for plane in 0..<(n * c) {
        let src = x.ptr + plane * h * w, dst = y.ptr + plane * oh * ow
        for oy in 0..<oh {
            let row = src + (oy / scale) * w, out = dst + oy * ow
            for ox in 0..<ow { out[ox] = row[ox / scale] }
        }
    }
    return Autograd.record(op, output: y, inputs: [x]) { g in
        let gx = x.gradOrCreate()
        for plane in 0..<(n * c) {
            let gsrc = g.ptr + plane * oh * ow, gdst = gx.ptr + plane * h * w
            for oy in 0..<oh {
                let row = gdst + (oy / scale) * w, grow = gsrc + oy * ow
                for ox in 0..<ow { row[ox / scale] += grow[ox] }
            }
        }
    }
}
