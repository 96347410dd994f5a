/// Shared pieces of the image ops: argument checks, the sliding-window geometry, and
/// im2col / col2im (the unfolding that turns a convolution into one GEMM).

/// Checks that `x` is an NCHW tensor and returns its four sizes.
func nchw(_ x: Tensor, _ op: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
    guard x.rank == 4 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape], detail: "expected an NCHW tensor of rank 4, got rank \(x.rank)")
    }
    return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
}

/// A k×k (possibly rectangular) window sliding with one stride and one symmetric padding over a
/// [C, H, W] plane stack, giving an outH × outW grid of window positions.
struct Window {
    let channels: Int
    let height: Int, width: Int
    let kh: Int, kw: Int
    let stride: Int, padding: Int
    let outH: Int, outW: Int

    /// Rows of the unfolded matrix: one per (channel, ki, kj).
    var patchSize: Int { channels * kh * kw }
    /// Columns of the unfolded matrix: one per output position.
    var positions: Int { outH * outW }

    /// The window for a convolution over an input of height × width; throws when the kernel does
    /// not fit in the padded input or stride / padding are out of range.
    init(op: String, shape: [Int], channels: Int, height: Int, width: Int, kh: Int, kw: Int,
         stride: Int, padding: Int) throws {
        guard stride >= 1 else { throw TensorError.badArgument(op: op, detail: "stride must be >= 1, got \(stride) (input \(shape))") }
        guard padding >= 0 else { throw TensorError.badArgument(op: op, detail: "padding must be >= 0, got \(padding) (input \(shape))") }
        guard kh >= 1, kw >= 1 else { throw TensorError.badArgument(op: op, detail: "kernel \(kh)x\(kw) must be at least 1x1 (input \(shape))") }
        guard height + 2 * padding >= kh, width + 2 * padding >= kw else {
            throw TensorError.shapeMismatch(op: op, shapes: [shape, [kh, kw]],
                detail: "kernel \(kh)x\(kw) is larger than the padded input \(height + 2 * padding)x\(width + 2 * padding)")
        }
        self.init(channels: channels, height: height, width: width, kh: kh, kw: kw, stride: stride, padding: padding,
                  outH: (height + 2 * padding - kh) / stride + 1, outW: (width + 2 * padding - kw) / stride + 1)
    }

    init(channels: Int, height: Int, width: Int, kh: Int, kw: Int, stride: Int, padding: Int, outH: Int, outW: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kh = kh; self.kw = kw; self.stride = stride; self.padding = padding
        self.outH = outH; self.outW = outW
    }

    /// Output columns ow whose input column ow*stride - padding + kj lies inside [0, width):
    /// the half-open range [lo, hi) (empty when hi <= lo).
    @inline(__always)
    func validColumns(_ kj: Int) -> (Int, Int) {
        let off = kj - padding
        // ow*s + off >= 0  <=>  ow >= ceil(-off / s);   ow*s + off < W  <=>  ow <= floor((W - 1 - off) / s)
        let lo = off >= 0 ? 0 : (-off + stride - 1) / stride
        let hi = width - 1 - off < 0 ? 0 : min(outW, (width - 1 - off) / stride + 1)
        return (lo, max(lo, hi))
    }

    /// Unfolds src [C, H, W] into col [C·kh·kw, rows·outW] (row r at col + r·ld): column p holds
    /// the window at output position p (counted from the first output row in `rows`), zeros
    /// where it hangs over the padding.
    func im2col(_ src: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, ld: Int, rows: Range<Int>) {
        let s = stride, ow = outW
        // Channels split over the BLAS threads: each channel fills its own kh·kw rows of col.
        Threads.parallel(channels, work: kh * kw * rows.count * ow) { part in for c in part {
            let plane = src + c * height * width
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = col + ((c * kh + ki) * kw + kj) * ld
                    let (lo, hi) = validColumns(kj)
                    let off = kj - padding
                    if s == 1 && ow == width {
                        sameWidthCopy(plane, row, ki: ki, off: off, lo: lo, hi: hi, rows: rows)
                        continue
                    }
                    for oh in rows {
                        let dst = row + (oh - rows.lowerBound) * ow
                        let ih = oh * s - padding + ki
                        if ih < 0 || ih >= height || hi <= lo {
                            dst.update(repeating: 0, count: ow)
                            continue
                        }
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                        let line = plane + ih * width + off
                        if s == 1 {
                            (dst + lo).update(from: line + lo, count: hi - lo)
                        } else {
                            for o in lo..<hi { dst[o] = line[o * s] }
                        }
                    }
                }
            }
        } }
    }

    /// The adjoint of im2col: adds every column entry of col back onto the input position it was
    /// read from, dst [C, H, W] += fold(col), for the output rows in `rows`.
    func col2im(_ col: UnsafePointer<Float>, ld: Int, _ dst: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let s = stride, ow = outW
        // Channels split over the BLAS threads: each channel adds into its own plane, in the same
        // order at any thread count.
        Threads.parallel(channels, work: kh * kw * rows.count * ow) { part in for c in part {
            let plane = dst + c * height * width
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = col + ((c * kh + ki) * kw + kj) * ld
                    let (lo, hi) = validColumns(kj)
                    if hi <= lo { continue }
                    let off = kj - padding
                    for oh in rows {
                        let ih = oh * s - padding + ki
                        if ih < 0 || ih >= height { continue }
                        let src = row + (oh - rows.lowerBound) * ow
                        let line = plane + ih * width + off
                        if s == 1 {
                            for o in lo..<hi { line[o] += src[o] }
                        } else {
                            for o in lo..<hi { line[o * s] += src[o] }
                        }
                    }
                }
            }
        } }
    }
}

// MARK: - Stride 1 with "same" width (the common 3x3 pad 1 case)
//
// When stride is 1 and the output is as wide as the input, one im2col row (c, ki, kj) is the
// input plane shifted by a constant offset: its valid output rows are one contiguous copy, after
// which the columns that fall on the left/right padding are zeroed. This replaces a short copy
// per output row with one long one.
extension Window {
    /// Output rows of `rows` whose input row oh - padding + ki lies inside the image.
    @inline(__always)
    private func validRows(_ ki: Int, _ rows: Range<Int>) -> Range<Int> {
        let r0 = min(rows.upperBound, max(rows.lowerBound, padding - ki))
        return r0..<max(r0, min(rows.upperBound, height + padding - ki))
    }

    fileprivate func sameWidthCopy(_ plane: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>, ki: Int, off: Int,
                                   lo: Int, hi: Int, rows: Range<Int>) {
        let w = width, valid = validRows(ki, rows), first = rows.lowerBound
        row.update(repeating: 0, count: (valid.lowerBound - first) * w)
        (row + (valid.upperBound - first) * w).update(repeating: 0, count: (rows.upperBound - valid.upperBound) * w)
        if valid.isEmpty { return }
        let dst = row + (valid.lowerBound - first) * w
        if hi <= lo { dst.update(repeating: 0, count: valid.count * w); return }
        // Elements [lo, n - (w - hi)) of the band map to plane + start + i; the rest of each
        // row's ends are padding, zeroed after the copy.
        let src = plane + (valid.lowerBound - padding + ki) * w + off
        let n = valid.count * w
        (dst + lo).update(from: src + lo, count: n - lo - (w - hi))
        for r in 0..<valid.count {
            let d = dst + r * w
            for j in 0..<lo { d[j] = 0 }
            for j in hi..<w { d[j] = 0 }
        }
    }
}

/// Scratch memory for one op call, released when the call returns. Ops allocate it once and
/// reuse it across samples and groups (never inside an inner loop).
final class Scratch {
    let ptr: UnsafeMutablePointer<Float>
    init(_ count: Int) { ptr = .allocate(capacity: max(count, 1)) }
    deinit { ptr.deallocate() }
}

/// A table of indices an op computes once (resampling taps, max-pool winners) and reads in
/// its inner loops through a plain pointer. A backward closure that captures it keeps it alive.
final class IndexTable {
    let ptr: UnsafeMutablePointer<Int>
    init(_ count: Int) {
        ptr = .allocate(capacity: max(count, 1))
        ptr.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { ptr.deallocate() }
}
