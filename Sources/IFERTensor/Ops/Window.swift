/// Window ops for GC ViT attention, and a row gather.
///
/// windowPartition cuts [B, H, W, C] into non-overlapping w×w windows, windows ordered
/// (b, row of windows, column of windows), as GC ViT's window_partition (view + permute(0,1,3,2,4,5)).
/// windowReverse is its inverse. Both move runs of w·C contiguous floats.

/// Copies between the image layout [B, H, W, C] and the window layout [B·(H/w)·(W/w), w, w, C].
/// `toWindows` picks the direction; `accumulate` adds instead of overwriting (for backward).
private func windowCopy(image: UnsafeMutablePointer<Float>, windows: UnsafeMutablePointer<Float>,
                        b: Int, h: Int, w: Int, c: Int, win: Int, toWindows: Bool, accumulate: Bool) {
    let nh = h / win, nw = w / win, run = win * c
    var k = 0  // offset in the window layout, walked in order
    for bi in 0..<b {
        for wy in 0..<nh {
            for wx in 0..<nw {
                for r in 0..<win {
                    let img = image + ((bi * h + wy * win + r) * w + wx * win) * c
                    let wnd = windows + k
                    switch (toWindows, accumulate) {
                    case (true, false): wnd.update(from: img, count: run)
                    case (false, false): img.update(from: wnd, count: run)
                    case (true, true): for j in 0..<run { wnd[j] += img[j] }
                    case (false, true): for j in 0..<run { img[j] += wnd[j] }
                    }
                    k += run
                }
            }
        }
    }
}

/// [B, H, W, C] -> [B·(H/w)·(W/w), w, w, C]. H and W must be multiples of w.
public func windowPartition(_ x: Tensor, window: Int) throws -> Tensor {
    let op = "windowPartition"
    guard x.rank == 4 else { throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "expected [B, H, W, C]") }
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    guard window > 0, h % window == 0, w % window == 0 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "H and W must be multiples of the window \(window)")
    }
    let out = Tensor(uninitialized: [b * (h / window) * (w / window), window, window, c])
    windowCopy(image: x.ptr, windows: out.ptr, b: b, h: h, w: w, c: c, win: window, toWindows: true, accumulate: false)
    return Autograd.record(op, output: out, inputs: [x]) { g in
        windowCopy(image: x.gradOrCreate().ptr, windows: g.ptr, b: b, h: h, w: w, c: c, win: window,
                   toWindows: false, accumulate: true)
    }
}

/// [B·(H/w)·(W/w), w, w, C] -> [B, H, W, C] (inverse of windowPartition).
public func windowReverse(_ x: Tensor, window: Int, height: Int, width: Int) throws -> Tensor {
    let op = "windowReverse"
    guard x.rank == 4, window > 0, x.shape[1] == window, x.shape[2] == window,
          height > 0, width > 0, height % window == 0, width % window == 0 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, [height, width]],
                                        detail: "expected [nW·B, \(window), \(window), C] with H, W multiples of the window")
    }
    let perImage = (height / window) * (width / window)
    guard x.shape[0] % perImage == 0 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, [height, width]],
                                        detail: "\(x.shape[0]) windows is not a multiple of \(perImage) windows per image")
    }
    let b = x.shape[0] / perImage, c = x.shape[3]
    let out = Tensor(uninitialized: [b, height, width, c])
    windowCopy(image: out.ptr, windows: x.ptr, b: b, h: height, w: width, c: c, win: window, toWindows: false, accumulate: false)
    return Autograd.record(op, output: out, inputs: [x]) { g in
        windowCopy(image: g.ptr, windows: x.gradOrCreate().ptr, b: b, h: height, w: width, c: c, win: window,
                   toWindows: true, accumulate: true)
    }
}

/// Gathers entries `indices` along `axis` (repeats allowed). [.., n, ..] -> [.., indices.count, ..].
/// Backward scatter-adds, so a repeated index collects every gradient that reads it (the
/// relative-position-bias table is read many times).
public func indexSelect(_ x: Tensor, axis: Int = 0, indices: [Int]) throws -> Tensor {
    let op = "indexSelect"
    let ax = try normalizeAxis(axis, rank: x.rank, op: op)
    let (outer, n, inner) = splitAround(x.shape, ax)
    if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
        throw TensorError.badArgument(op: op, detail: "index \(bad) out of range 0..<\(n) for axis \(axis) of shape \(x.shape)")
    }
    var shape = x.shape
    shape[ax] = indices.count
    let out = Tensor(uninitialized: shape)
    let m = indices.count
    let px = x.ptr, po = out.ptr
    for o in 0..<outer {
        for (k, i) in indices.enumerated() {
            (po + (o * m + k) * inner).update(from: px + (o * n + i) * inner, count: inner)
        }
    }
    return Autograd.record(op, output: out, inputs: [x]) { g in
        let gx = x.gradOrCreate().ptr, pg = g.ptr
        for o in 0..<outer {
            for (k, i) in indices.enumerated() {
                let src = pg + (o * m + k) * inner, dst = gx + (o * n + i) * inner
                for j in 0..<inner { dst[j] += src[j] }
            }
        }
    }
}
