import Foundation

/// Anti-aliased resampling of interleaved RGB uint8 images with a triangle (bilinear) filter whose
/// support widens with the down-scaling factor, the same scheme as Pillow's `Image.resize(...,
/// BILINEAR, box=...)` and torchvision's `antialias=True`: every source pixel under an output
/// pixel's footprint contributes, so a 4x reduction averages 8 taps per axis instead of aliasing.
///
/// Separable, vertical pass first: each output row is a weighted sum of whole source rows (a
/// contiguous, vectorised loop), then the horizontal taps run on that one row. Weights are
/// computed once per axis.
public enum Resample {
    /// Taps of one output coordinate: the first source index and the normalised weights.
    struct Taps {
        var first: [Int32]
        var count: [Int32]
        var weights: [Float]  // maxTaps per output, zero padded
        var maxTaps: Int
    }

    /// Weights to map the source window [lo, hi) (in pixels of a `size`-pixel axis) to `out` pixels.
    static func taps(size: Int, lo: Double, hi: Double, out: Int) -> Taps {
        let scale = (hi - lo) / Double(out)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // triangle filter has radius 1
        let maxTaps = Int(ceil(support)) * 2 + 1
        var first = [Int32](repeating: 0, count: out)
        var count = [Int32](repeating: 0, count: out)
        var weights = [Float](repeating: 0, count: out * maxTaps)
        for i in 0..<out {
            let center = lo + (Double(i) + 0.5) * scale
            var xmin = Int(center - support + 0.5)
            if center - support + 0.5 < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            xmax = min(xmax, size)
            xmin = min(max(xmin, 0), size - 1)
            let n = max(1, min(xmax - xmin, maxTaps))
            var total = 0.0
            var w = [Double](repeating: 0, count: n)
            for k in 0..<n {
                let d = (Double(k + xmin) - center + 0.5) / filterScale
                let v = max(0, 1 - abs(d))
                w[k] = v
                total += v
            }
            first[i] = Int32(xmin)
            count[i] = Int32(n)
            for k in 0..<n { weights[i * maxTaps + k] = total > 0 ? Float(w[k] / total) : (k == 0 ? 1 : 0) }
        }
        return Taps(first: first, count: count, weights: weights, maxTaps: maxTaps)
    }

    /// Reusable buffers, so resampling many images does not allocate (and page-fault) per image.
    public final class Workspace {
        var row: [Float] = []
        var out: [Float] = []
        public init() {}
    }

    /// Resamples the window `box` = (x0, y0, x1, y1) of `src` (width x height, RGB interleaved)
    /// to outWidth x outHeight. `emit(y, row)` receives each output row as outWidth*3 floats in
    /// 0...255 (RGB interleaved), so callers can store uint8 or normalised floats without a copy.
    public static func resample(_ src: UnsafePointer<UInt8>, width: Int, height: Int,
                                box: (Double, Double, Double, Double), outWidth: Int, outHeight: Int,
                                workspace: Workspace = Workspace(),
                                emit: (Int, UnsafeBufferPointer<Float>) -> Void) {
        let hx = taps(size: width, lo: box.0, hi: box.2, out: outWidth)
        let hy = taps(size: height, lo: box.1, hi: box.3, out: outHeight)
        // Source columns the horizontal pass touches.
        var colLo = width, colHi = 0
        for i in 0..<outWidth {
            colLo = min(colLo, Int(hx.first[i]))
            colHi = max(colHi, Int(hx.first[i] + hx.count[i]))
        }
        let rowLen = outWidth * 3
        let ws = workspace
        if ws.row.count < width * 3 { ws.row = [Float](repeating: 0, count: width * 3) }
        if ws.out.count < rowLen { ws.out = [Float](repeating: 0, count: rowLen) }
        ws.row.withUnsafeMutableBufferPointer { rb in
            ws.out.withUnsafeMutableBufferPointer { ob in
                hx.weights.withUnsafeBufferPointer { wx in
                    let acc = rb.baseAddress!, o = ob.baseAddress!
                    let j0 = colLo * 3, j1 = colHi * 3
                    for y in 0..<outHeight {
                        // Vertical pass first: a weighted sum of whole source rows, contiguous and
                        // vectorisable, so the scalar horizontal taps run on outHeight rows only.
                        let f = Int(hy.first[y]), n = Int(hy.count[y])
                        let w0 = hy.weights[y * hy.maxTaps]
                        let r0 = src + f * width * 3
                        for j in j0..<j1 { acc[j] = w0 * Float(r0[j]) }
                        for k in 1..<max(1, n) {
                            let wk = hy.weights[y * hy.maxTaps + k]
                            let r = src + (f + k) * width * 3
                            for j in j0..<j1 { acc[j] += wk * Float(r[j]) }
                        }
                        // Horizontal pass over the accumulated row.
                        for x in 0..<outWidth {
                            let n = Int(hx.count[x])
                            var p = acc + Int(hx.first[x]) * 3
                            let w = wx.baseAddress! + x * hx.maxTaps
                            var s0: Float = 0, s1: Float = 0, s2: Float = 0
                            for k in 0..<n {
                                let wk = w[k]
                                s0 += wk * p[0]; s1 += wk * p[1]; s2 += wk * p[2]
                                p += 3
                            }
                            o[x * 3] = s0; o[x * 3 + 1] = s1; o[x * 3 + 2] = s2
                        }
                        emit(y, UnsafeBufferPointer(start: o, count: rowLen))
                    }
                }
            }
        }
    }

    /// Resamples into a new uint8 RGB image (rounded, clamped to 0...255).
    public static func resampleUInt8(_ src: UnsafePointer<UInt8>, width: Int, height: Int,
                                     box: (Double, Double, Double, Double), outWidth: Int, outHeight: Int,
                                     workspace: Workspace = Workspace()) -> [UInt8] {
        var dst = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        dst.withUnsafeMutableBufferPointer { d in
            resample(src, width: width, height: height, box: box, outWidth: outWidth, outHeight: outHeight, workspace: workspace) { y, row in
                let o = d.baseAddress! + y * outWidth * 3
                for j in 0..<row.count { o[j] = UInt8(min(max(row[j] + 0.5, 0), 255)) }
            }
        }
        return dst
    }
}
