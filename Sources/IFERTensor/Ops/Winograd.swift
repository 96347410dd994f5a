import Foundation

/// Winograd F(4×4, 3×3): the 3×3, stride-1, ungrouped convolutions (most of the generator's and
/// the discriminators' FLOPs) with 4× fewer multiplications than im2col + GEMM.
///
/// For one 6×6 input patch d and one 3×3 filter g, the 4×4 output patch is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A                       (Lavin & Gray, 2015)
///
/// so a whole convolution becomes, per "frequency" ξ of the 36 entries of a 6×6 tile,
///
///     U[ξ] [O, C]  = (G g Gᵀ)[ξ]         the filters, transformed once per call
///     V[ξ] [C, T]  = (Bᵀ d B)[ξ]         every input tile t, transformed
///     M[ξ] [O, T]  = U[ξ] · V[ξ]         36 GEMMs with inner dimension C
///     y tile       = Aᵀ M A              the output transform
///
/// The backward pass runs the adjoints of the same linear maps: with Ŷ = A dY Aᵀ (the output
/// gradient of each tile, transformed), dV[ξ] = U[ξ]ᵀ · Ŷ[ξ] gives the input gradient through
/// dX tile = B dV Bᵀ (tiles overlap by two rows and columns, so these are added), and
/// Mw[ξ] = Σ_t Ŷ[ξ] · V[ξ]ᵀ gives the weight gradient dW = Gᵀ Mw G. Tiles hanging over the
/// output's edge see zero output gradient there, which makes every adjoint exact.
///
/// Layout and speed: tiles are numbered along rows of tiles (tile row R = sample · tilesH + th,
/// tile tw within it); a block of whole tile rows is transformed, multiplied and transformed
/// back while its buffers are still in cache. The transforms run on SIMD8 vectors of eight
/// neighbouring tiles: each input row is first split into its four column phases (x mod 4), so
/// that the column entry l of tiles tw..tw+7 is one contiguous load. The points 0, ±1, ±2 and ∞
/// give float32 errors of about 2-7e-6 of the largest output for 16-64 channels (im2col: ~1e-7;
/// checked in the tests). Like cuDNN's and oneDNN's Winograd kernels this trades a little
/// precision for speed; IFER_CONV_WINOGRAD=0 switches it off.
typealias V8 = SIMD8<Float>

struct Winograd {
    let batch: Int, channels: Int, outChannels: Int
    let height: Int, width: Int, padding: Int
    let outH: Int, outW: Int
    let tilesH: Int, tilesW: Int
    /// Tile rows per block, and tile slots per block (the row stride of V, M, Ŷ and dV).
    let rowsPerBlock: Int
    var blockTiles: Int { rowsPerBlock * tilesW }
    var tileRows: Int { batch * tilesH }
    /// Column phases are kept for tilesW + 1 tile columns (the last tile reads two columns past
    /// its four), plus one vector of slack for the partial last vector.
    var phaseLength: Int { tilesW + 1 + 8 }

    /// Tests force or forbid the Winograd path; nil decides from the sizes (`applies`).
    static var forced: Bool? = nil
    /// IFER_CONV_WINOGRAD=0 in the environment turns the path off for the whole process, for
    /// bit-level comparisons with PyTorch (which runs these convolutions directly).
    static let enabled = ProcessInfo.processInfo.environment["IFER_CONV_WINOGRAD"] != "0"

    /// 3×3, stride 1, one group; by default only where the GEMMs have enough channels to be
    /// worth splitting into 36, and enough tiles (batch · ⌈outH/4⌉ · ⌈outW/4⌉ >= 128) to pay for
    /// transforming every filter: per (output, input) channel pair the filter transforms cost a
    /// fixed amount while the saved multiplications grow with the tiles. Measured fwd+bwd, one
    /// thread: 512 channels at 4² x 8 images (32 tiles) 2.3x slower than im2col; 128 tiles break
    /// even (64 ch) or win 1.1x (256 ch); 256-512 tiles win 1.2-2.2x. The choice depends on the
    /// per-rank batch, so a layer may take different paths at different world sizes.
    static func applies(_ s: ConvShape) -> Bool {
        let w = s.win
        guard w.kh == 3, w.kw == 3, w.stride == 1, s.groups == 1 else { return false }
        if let forced { return forced }
        let tiles = s.batch * ((w.outH + 3) / 4) * ((w.outW + 3) / 4)
        return enabled && w.channels >= 16 && s.outChannels >= 16 && tiles >= 128
    }

    init(_ s: ConvShape) {
        let w = s.win
        batch = s.batch; channels = w.channels; outChannels = s.outChannels
        height = w.height; width = w.width; padding = w.padding
        outH = w.outH; outW = w.outW
        tilesH = (outH + 3) / 4; tilesW = (outW + 3) / 4
        // About 128 tiles per block: V and M for 64 channels are then ~1.2 MB each, and each of
        // the 36 GEMMs is [O, C] · [C, ~128] (measured best of 64..512 on the benchmark convs).
        // The block size must not depend on the thread count: dW sums over blocks, and the
        // same blocks keep results bitwise equal at any thread count.
        rowsPerBlock = max(1, min(batch * tilesH, 128 / tilesW))
    }

    /// Calls body(R0, R1) for each block of tile rows R0..<R1.
    func forEachBlock(_ body: (Int, Int) -> Void) {
        for r0 in stride(from: 0, to: tileRows, by: rowsPerBlock) { body(r0, min(tileRows, r0 + rowsPerBlock)) }
    }

    /// Floats of one [36, rows, blockTiles] buffer, with a vector of slack at the end for the
    /// last partial vector's loads.
    func tileBuffer(rows: Int) -> Int { 36 * rows * blockTiles + 8 }
}

// MARK: - The convolution passes

extension Winograd {
    /// y [N, O, outH, outW] += conv3x3(x, w).
    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let c = channels, o = outChannels, ld = blockTiles
        let u = Scratch(36 * o * c), v = Scratch(tileBuffer(rows: c)), m = Scratch(tileBuffer(rows: o))
        let team = Team(self)
        team.run(o * c) { filters, _ in transformFilters(w, u.ptr, filters) }
        forEachBlock { r0, r1 in
            let tiles = (r1 - r0) * tilesW
            team.run(c) { chans, work in transformInput(x, rows: r0..<r1, channels: chans, into: v.ptr, work) }
            team.run(36) { xis, _ in
                for xi in xis {   // M[ξ] [O, tiles] = U[ξ] [O, C] · V[ξ] [C, tiles]
                    sgemm(transA: false, transB: false, m: o, n: tiles, k: c, a: u.ptr + xi * o * c, lda: c,
                          b: v.ptr + xi * c * ld, ldb: ld, beta: 0, c: m.ptr + xi * o * ld, ldc: ld, split: false)
                }
            }
            team.run(o) { ocs, work in transformOutput(m.ptr, rows: r0..<r1, channels: ocs, into: y, work) }
        }
    }

    /// gradX += conv3x3ᵀ(gy, w) and gradW += gy ⋆ x (either may be nil; x is needed for gradW).
    func backward(x: UnsafePointer<Float>?, weight w: UnsafePointer<Float>, gradOut gy: UnsafePointer<Float>,
                  gradX: UnsafeMutablePointer<Float>?, gradW: UnsafeMutablePointer<Float>?) {
        let c = channels, o = outChannels, ld = blockTiles
        let wantW = gradW != nil && x != nil
        let u = Scratch(gradX != nil ? 36 * o * c : 0), g = Scratch(tileBuffer(rows: o))
        let v = Scratch(tileBuffer(rows: c))                        // V (for dW), then dV (for dX)
        let mw = Scratch(wantW ? 36 * o * c : 0)
        let team = Team(self)
        if gradX != nil { team.run(o * c) { filters, _ in transformFilters(w, u.ptr, filters) } }
        if wantW { mw.ptr.update(repeating: 0, count: 36 * o * c) }
        forEachBlock { r0, r1 in
            let tiles = (r1 - r0) * tilesW
            team.run(o) { ocs, work in transformOutputGrad(gy, rows: r0..<r1, channels: ocs, into: g.ptr, work) }
            if wantW, let x {
                team.run(c) { chans, work in transformInput(x, rows: r0..<r1, channels: chans, into: v.ptr, work) }
                team.run(36) { xis, _ in
                    for xi in xis {   // Mw[ξ] [O, C] += Ŷ[ξ] [O, tiles] · V[ξ]ᵀ [tiles, C]
                        sgemm(transA: false, transB: true, m: o, n: c, k: tiles, a: g.ptr + xi * o * ld, lda: ld,
                              b: v.ptr + xi * c * ld, ldb: ld, beta: 1, c: mw.ptr + xi * o * c, ldc: c, split: false)
                    }
                }
            }
            if let gx = gradX {
                team.run(36) { xis, _ in
                    for xi in xis {   // dV[ξ] [C, tiles] = U[ξ]ᵀ [C, O] · Ŷ[ξ] [O, tiles]
                        sgemm(transA: true, transB: false, m: c, n: tiles, k: o, a: u.ptr + xi * o * c, lda: c,
                              b: g.ptr + xi * o * ld, ldb: ld, beta: 0, c: v.ptr + xi * c * ld, ldc: ld, split: false)
                    }
                }
                team.run(c) { chans, work in transformInputGrad(v.ptr, rows: r0..<r1, channels: chans, into: gx, work) }
            }
        }
        if let gw = gradW, wantW { team.run(o * c) { filters, _ in transformFilterGrad(mw.ptr, into: gw, filters) } }
    }
}

/// The threads of one Winograd call: as many as BLAS may use, each with its own phase buffers.
/// Every pass is split by channel (transforms) or by frequency ξ (GEMMs), never by tile, so each
/// output element is summed in the same order whatever the thread count: results are bitwise
/// equal at 1 and 2 threads. Its GEMMs run one thread each (split: false).
private final class Team {
    let threads: Int
    let work: [PhaseBuffers]

    init(_ wg: Winograd) {
        threads = Threads.blas
        work = (0..<threads).map { _ in PhaseBuffers(wg) }
    }

    /// body(part of 0..<count, that thread's buffers) on every thread, then waits for all.
    func run(_ count: Int, _ body: (Range<Int>, PhaseBuffers) -> Void) {
        if threads == 1 { return body(0..<count, work[0]) }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = count * t / threads, hi = count * (t + 1) / threads
            if lo < hi { body(lo..<hi, work[t]) }
        }
    }
}

// MARK: - The 1-D transforms (applied to rows, then to columns)

/// Bᵀ (6 → 6): input patch rows or columns.
@inline(__always)
private func bt(_ d0: V8, _ d1: V8, _ d2: V8, _ d3: V8, _ d4: V8, _ d5: V8) -> (V8, V8, V8, V8, V8, V8) {
    let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
    return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
}

/// B (6 → 6), the adjoint of bt.
@inline(__always)
private func bAdj(_ v0: V8, _ v1: V8, _ v2: V8, _ v3: V8, _ v4: V8, _ v5: V8) -> (V8, V8, V8, V8, V8, V8) {
    let s12 = v1 + v2, d12 = v2 - v1, s34 = v3 + v4, d34 = v4 - v3
    return (4 * v0, 4 * d12 + 2 * d34 + 4 * v5, -5 * v0 - 4 * s12 - s34, -d12 - 2 * d34 - 5 * v5,
            v0 + s12 + s34, v5)
}

/// Aᵀ (6 → 4): output patch rows or columns.
@inline(__always)
private func at(_ m0: V8, _ m1: V8, _ m2: V8, _ m3: V8, _ m4: V8, _ m5: V8) -> (V8, V8, V8, V8) {
    let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
    return (m0 + s12 + s34, d12 + 2 * d34, s12 + 4 * s34, d12 + 8 * d34 + m5)
}

/// A (4 → 6), the adjoint of at.
@inline(__always)
private func aAdj(_ g0: V8, _ g1: V8, _ g2: V8, _ g3: V8) -> (V8, V8, V8, V8, V8, V8) {
    let e = g0 + g2, o = g1 + g3, e4 = g0 + 4 * g2, o4 = 2 * g1 + 8 * g3
    return (g0, e + o, e - o, e4 + o4, e4 - o4, g3)
}

// MARK: - Per-call scratch for the phase-split rows

/// Six rows (of input or output patches) split into four column phases each, and six rows of
/// their row-transformed values: [6][4][phaseLength] floats each.
fileprivate final class PhaseBuffers {
    let rows: Scratch, mixed: Scratch, line: Scratch, pad: Scratch
    let stride: Int
    init(_ wg: Winograd) {
        stride = wg.phaseLength
        rows = Scratch(24 * stride); mixed = Scratch(24 * stride); line = Scratch(32)
        pad = Scratch(4 * stride)
    }
    var padded: UnsafeMutablePointer<Float> { pad.ptr }
    @inline(__always) func row(_ k: Int, _ phase: Int) -> UnsafeMutablePointer<Float> { rows.ptr + (k * 4 + phase) * stride }
    @inline(__always) func mix(_ k: Int, _ phase: Int) -> UnsafeMutablePointer<Float> { mixed.ptr + (k * 4 + phase) * stride }
}

/// Splits a row by column phase: phase ph (at dst + ph·stride) gets, at q, the element at padded
/// column 4q + ph, which is src[4q + ph - offset] inside 0..<count and zero outside, for q in
/// 0..<length (rounded up to whole vectors). The row is first copied into `pad`, a zero-padded
/// buffer of 32·⌈length/8⌉ floats, so the transpose runs on whole vectors with no bounds tests.
@inline(__always)
private func splitPhases(_ src: UnsafePointer<Float>, count n: Int, offset: Int, into dst: UnsafeMutablePointer<Float>,
                         stride: Int, length: Int, pad: UnsafeMutablePointer<Float>) {
    let span = 32 * ((length + 7) / 8)
    let first = min(offset, span), copied = max(0, min(n, span - first))
    pad.update(repeating: 0, count: first)
    (pad + first).update(from: src, count: copied)
    (pad + first + copied).update(repeating: 0, count: span - first - copied)
    let p0 = dst, p1 = dst + stride, p2 = dst + 2 * stride, p3 = dst + 3 * stride
    for q in Swift.stride(from: 0, to: length, by: 8) {   // 32 floats in: an 8x4 -> 4x8 transpose
        let s = pad + 4 * q
        let t = deinterleave4(load(s), load(s + 8), load(s + 16), load(s + 24))
        store(t.0, p0 + q); store(t.1, p1 + q); store(t.2, p2 + q); store(t.3, p3 + q)
    }
}

/// The adjoint of splitPhases: dst[4q + ph - offset] += phase ph at q, where that lies in 0..<count.
@inline(__always)
private func addPhases(_ src: UnsafePointer<Float>, stride: Int, length: Int, onto dst: UnsafeMutablePointer<Float>,
                       count n: Int, offset: Int, pad: UnsafeMutablePointer<Float>) {
    let span = 32 * ((length + 7) / 8)
    let p0 = src, p1 = src + stride, p2 = src + 2 * stride, p3 = src + 3 * stride
    for q in Swift.stride(from: 0, to: length, by: 8) {
        let t = interleave4(load(p0 + q), load(p1 + q), load(p2 + q), load(p3 + q))
        let d = pad + 4 * q
        store(t.0, d); store(t.1, d + 8); store(t.2, d + 16); store(t.3, d + 24)
    }
    let first = min(offset, span), count = max(0, min(n, span - first))
    let from = pad + first
    var j = 0
    while j + 8 <= count { store(load(dst + j) + load(from + j), dst + j); j += 8 }
    while j < count { dst[j] += from[j]; j += 1 }
}

/// Four vectors holding 32 consecutive floats, regrouped by index mod 4: result ph holds the
/// elements ph, ph + 4, …, ph + 28.
@inline(__always)
private func deinterleave4(_ a: V8, _ b: V8, _ c: V8, _ d: V8) -> (V8, V8, V8, V8) {
    (V8(a[0], a[4], b[0], b[4], c[0], c[4], d[0], d[4]), V8(a[1], a[5], b[1], b[5], c[1], c[5], d[1], d[5]),
     V8(a[2], a[6], b[2], b[6], c[2], c[6], d[2], d[6]), V8(a[3], a[7], b[3], b[7], c[3], c[7], d[3], d[7]))
}

/// The inverse of deinterleave4.
@inline(__always)
private func interleave4(_ p0: V8, _ p1: V8, _ p2: V8, _ p3: V8) -> (V8, V8, V8, V8) {
    (V8(p0[0], p1[0], p2[0], p3[0], p0[1], p1[1], p2[1], p3[1]), V8(p0[2], p1[2], p2[2], p3[2], p0[3], p1[3], p2[3], p3[3]),
     V8(p0[4], p1[4], p2[4], p3[4], p0[5], p1[5], p2[5], p3[5]), V8(p0[6], p1[6], p2[6], p3[6], p0[7], p1[7], p2[7], p3[7]))
}

/// dst rows = f(src rows) for six phase-split rows ([6][4][stride] floats each), every phase and
/// the first `length` entries (rounded up to whole vectors).
@inline(__always)
private func sixRows(_ src: UnsafeMutablePointer<Float>, to dst: UnsafeMutablePointer<Float>, stride: Int, length: Int,
                     _ f: (V8, V8, V8, V8, V8, V8) -> (V8, V8, V8, V8, V8, V8)) {
    let row = 4 * stride
    for ph in 0..<4 {
        for j in Swift.stride(from: ph * stride, to: ph * stride + length, by: 8) {
            let s = src + j, d = dst + j
            let t = f(load(s), load(s + row), load(s + 2 * row), load(s + 3 * row), load(s + 4 * row), load(s + 5 * row))
            store(t.0, d); store(t.1, d + row); store(t.2, d + 2 * row)
            store(t.3, d + 3 * row); store(t.4, d + 4 * row); store(t.5, d + 5 * row)
        }
    }
}

/// Element k (0..<4) of a 4-tuple of vectors.
@inline(__always) private func pick(_ t: (V8, V8, V8, V8), _ k: Int) -> V8 {
    switch k { case 0: return t.0; case 1: return t.1; case 2: return t.2; default: return t.3 }
}

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
@inline(__always) private func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }

/// The first `n` lanes (n < 8 only at a tile row's end), the rest zero.
@inline(__always) private func load(_ p: UnsafePointer<Float>, _ n: Int) -> V8 {
    if n >= 8 { return load(p) }
    var v = V8(repeating: 0)
    for l in 0..<n { v[l] = p[l] }
    return v
}

@inline(__always) private func store(_ v: V8, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 8 { return store(v, p) }
    for l in 0..<n { p[l] = v[l] }
}

// MARK: - The tile transforms

extension Winograd {
    /// U [36, O, C] = G g Gᵀ for the filters g = w[o, c] (3×3) numbered o·C + c in `filters`.
    func transformFilters(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ filters: Range<Int>) {
        let oc = outChannels * channels
        for f in filters {
            let g = w + f * 9
            // G g: column b of g becomes column b of a [6, 3] matrix (c0, c1, c2 hold its columns).
            let c0 = filterColumn(g[0], g[3], g[6]), c1 = filterColumn(g[1], g[4], g[7]), c2 = filterColumn(g[2], g[5], g[8])
            for i in 0..<6 {
                let row = filterColumn(c0[i], c1[i], c2[i])
                for j in 0..<6 { u[(i * 6 + j) * oc + f] = row[j] }
            }
        }
    }

    /// G (3 → 6).
    @inline(__always)
    private func filterColumn(_ g0: Float, _ g1: Float, _ g2: Float) -> SIMD8<Float> {
        let s = g0 + g2, sixth: Float = 1.0 / 6, e = 0.25 * g0 + g2, o = 0.5 * g1
        return [0.25 * g0, -sixth * (s + g1), -sixth * (s - g1), sixth * (e + o), sixth * (e - o), g2, 0, 0]
    }

    /// gradW [O, C, 3, 3] += Gᵀ Mw G for the accumulated [6, 6] tiles of the filters in `filters`.
    func transformFilterGrad(_ mw: UnsafePointer<Float>, into gw: UnsafeMutablePointer<Float>, _ filters: Range<Int>) {
        let oc = outChannels * channels
        // Gᵀ (6 → 3) of m[0..<6].
        func gt(_ m: SIMD8<Float>) -> (Float, Float, Float) {
            let s12 = m[1] + m[2], d12 = m[2] - m[1], s34 = m[3] + m[4], d34 = m[3] - m[4]
            let sixth: Float = 1.0 / 6
            return (0.25 * m[0] - sixth * s12 + (sixth / 4) * s34, sixth * d12 + (sixth / 2) * d34, sixth * (s34 - s12) + m[5])
        }
        for f in filters {
            // Gᵀ down each column j of the [6, 6] tile: rows a of Gᵀ Mw, a [3, 6] matrix.
            var h0 = SIMD8<Float>(), h1 = SIMD8<Float>(), h2 = SIMD8<Float>()
            for j in 0..<6 {
                var m = SIMD8<Float>()
                for i in 0..<6 { m[i] = mw[(i * 6 + j) * oc + f] }
                (h0[j], h1[j], h2[j]) = gt(m)
            }
            // Then G across each row: (Gᵀ Mw) G, [3, 3].
            let g = gw + f * 9
            let a = gt(h0), b = gt(h1), c = gt(h2)
            g[0] += a.0; g[1] += a.1; g[2] += a.2
            g[3] += b.0; g[4] += b.1; g[5] += b.2
            g[6] += c.0; g[7] += c.1; g[8] += c.2
        }
    }

    /// V [36, C, blockTiles] = Bᵀ d B for every tile of tile rows `rows` and every channel.
    fileprivate func transformInput(_ x: UnsafePointer<Float>, rows: Range<Int>, channels chans: Range<Int>, into v: UnsafeMutablePointer<Float>,
                        _ buf: PhaseBuffers) {
        let c = channels, ld = blockTiles, plane = height * width, q = tilesW + 1
        for r in rows {
            let n = r / tilesH, th = r % tilesH, t0 = (r - rows.lowerBound) * tilesW
            for ch in chans {
                let src = x + (n * c + ch) * plane
                // The six input rows of this tile row, zero-padded and split by column phase.
                for k in 0..<6 {
                    let ih = th * 4 - padding + k
                    if ih < 0 || ih >= height {
                        buf.row(k, 0).update(repeating: 0, count: 4 * buf.stride)
                    } else {
                        splitPhases(src + ih * width, count: width, offset: padding, into: buf.row(k, 0), stride: buf.stride, length: q, pad: buf.padded)
                    }
                }
                // Bᵀ down the six rows, all phases at once.
                sixRows(buf.rows.ptr, to: buf.mixed.ptr, stride: buf.stride, length: q, bt)
                // B across each tile's six columns, eight tiles per vector.
                for i in 0..<6 {
                    let p0 = buf.mix(i, 0), p1 = buf.mix(i, 1), p2 = buf.mix(i, 2), p3 = buf.mix(i, 3)
                    for tw in stride(from: 0, to: tilesW, by: 8) {
                        let cnt = min(8, tilesW - tw)
                        let t = bt(load(p0 + tw), load(p1 + tw), load(p2 + tw), load(p3 + tw), load(p0 + tw + 1), load(p1 + tw + 1))
                        let dst = v + ((i * 6) * c + ch) * ld + t0 + tw, step = c * ld
                        store(t.0, dst, cnt); store(t.1, dst + step, cnt); store(t.2, dst + 2 * step, cnt)
                        store(t.3, dst + 3 * step, cnt); store(t.4, dst + 4 * step, cnt); store(t.5, dst + 5 * step, cnt)
                    }
                }
            }
        }
    }

    /// y += Aᵀ M A for every tile of tile rows `rows` and every output channel.
    fileprivate func transformOutput(_ m: UnsafePointer<Float>, rows: Range<Int>, channels ocs: Range<Int>, into y: UnsafeMutablePointer<Float>,
                         _ buf: PhaseBuffers) {
        let o = outChannels, ld = blockTiles, plane = outH * outW, step = o * ld
        let line = buf.line.ptr
        for r in rows {
            let n = r / tilesH, th = r % tilesH, t0 = (r - rows.lowerBound) * tilesW
            for oc in ocs {
                let dst = y + (n * o + oc) * plane
                for tw in stride(from: 0, to: tilesW, by: 8) {
                    let cnt = min(8, tilesW - tw)
                    let src = m + oc * ld + t0 + tw
                    // Aᵀ across each of the six rows' columns (r_i.j' = row i, output column j')…
                    func row(_ i: Int) -> (V8, V8, V8, V8) {
                        let p = src + i * 6 * step
                        return at(load(p), load(p + step), load(p + 2 * step), load(p + 3 * step), load(p + 4 * step), load(p + 5 * step))
                    }
                    let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
                    // …then Aᵀ down the rows: y_j'.k is output row k, column j' of each tile.
                    let y0 = at(r0.0, r1.0, r2.0, r3.0, r4.0, r5.0), y1 = at(r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
                    let y2 = at(r0.2, r1.2, r2.2, r3.2, r4.2, r5.2), y3 = at(r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)
                    let width = min(cnt * 4, outW - tw * 4)
                    for k in 0..<min(4, outH - th * 4) {
                        let a = pick(y0, k), b = pick(y1, k), cc = pick(y2, k), d = pick(y3, k)
                        // Interleave output row k of the eight tiles into one row segment.
                        let out = dst + (th * 4 + k) * outW + tw * 4
                        let t = interleave4(a, b, cc, d)
                        if width == 32 {
                            store(load(out) + t.0, out); store(load(out + 8) + t.1, out + 8)
                            store(load(out + 16) + t.2, out + 16); store(load(out + 24) + t.3, out + 24)
                            continue
                        }
                        store(t.0, line); store(t.1, line + 8); store(t.2, line + 16); store(t.3, line + 24)
                        for e in 0..<width { out[e] += line[e] }
                    }
                }
            }
        }
    }

    /// Ŷ [36, O, blockTiles] = A dY Aᵀ for every tile of tile rows `rows` (dY zero past the edges).
    fileprivate func transformOutputGrad(_ gy: UnsafePointer<Float>, rows: Range<Int>, channels ocs: Range<Int>, into g: UnsafeMutablePointer<Float>,
                             _ buf: PhaseBuffers) {
        let o = outChannels, ld = blockTiles, plane = outH * outW, step = o * ld
        for r in rows {
            let n = r / tilesH, th = r % tilesH, t0 = (r - rows.lowerBound) * tilesW
            for oc in ocs {
                let src = gy + (n * o + oc) * plane
                for a in 0..<4 {
                    let oh = th * 4 + a
                    if oh >= outH {
                        buf.row(a, 0).update(repeating: 0, count: 4 * buf.stride)
                    } else {
                        splitPhases(src + oh * outW, count: outW, offset: 0, into: buf.row(a, 0), stride: buf.stride, length: tilesW, pad: buf.padded)
                    }
                }
                // A down the four rows, then A across each tile's four columns.
                for ph in 0..<4 {
                    for j in stride(from: 0, to: tilesW, by: 8) {
                        let t = aAdj(load(buf.row(0, ph) + j), load(buf.row(1, ph) + j), load(buf.row(2, ph) + j), load(buf.row(3, ph) + j))
                        store(t.0, buf.mix(0, ph) + j); store(t.1, buf.mix(1, ph) + j); store(t.2, buf.mix(2, ph) + j)
                        store(t.3, buf.mix(3, ph) + j); store(t.4, buf.mix(4, ph) + j); store(t.5, buf.mix(5, ph) + j)
                    }
                }
                for i in 0..<6 {
                    for tw in stride(from: 0, to: tilesW, by: 8) {
                        let cnt = min(8, tilesW - tw)
                        let t = aAdj(load(buf.mix(i, 0) + tw), load(buf.mix(i, 1) + tw), load(buf.mix(i, 2) + tw), load(buf.mix(i, 3) + tw))
                        let dst = g + ((i * 6) * o + oc) * ld + t0 + tw
                        store(t.0, dst, cnt); store(t.1, dst + step, cnt); store(t.2, dst + 2 * step, cnt)
                        store(t.3, dst + 3 * step, cnt); store(t.4, dst + 4 * step, cnt); store(t.5, dst + 5 * step, cnt)
                    }
                }
            }
        }
    }

    /// gradX += B dV Bᵀ for every tile of tile rows `rows`, overlapping tiles added.
    fileprivate func transformInputGrad(_ dv: UnsafePointer<Float>, rows: Range<Int>, channels chans: Range<Int>, into gx: UnsafeMutablePointer<Float>,
                            _ buf: PhaseBuffers) {
        let c = channels, ld = blockTiles, plane = height * width, step = c * ld, q = tilesW + 1
        for r in rows {
            let n = r / tilesH, th = r % tilesH, t0 = (r - rows.lowerBound) * tilesW
            for ch in chans {
                // B across each tile's columns, added into the six patch rows' column phases.
                for i in 0..<6 {
                    for ph in 0..<4 { buf.mix(i, ph).update(repeating: 0, count: buf.stride) }
                    let p0 = buf.mix(i, 0), p1 = buf.mix(i, 1), p2 = buf.mix(i, 2), p3 = buf.mix(i, 3)
                    for tw in stride(from: 0, to: tilesW, by: 8) {
                        let cnt = min(8, tilesW - tw)
                        let src = dv + ((i * 6) * c + ch) * ld + t0 + tw
                        let e = bAdj(load(src, cnt), load(src + step, cnt), load(src + 2 * step, cnt),
                                     load(src + 3 * step, cnt), load(src + 4 * step, cnt), load(src + 5 * step, cnt))
                        store(load(p0 + tw) + e.0, p0 + tw); store(load(p1 + tw) + e.1, p1 + tw)
                        store(load(p2 + tw) + e.2, p2 + tw); store(load(p3 + tw) + e.3, p3 + tw)
                        store(load(p0 + tw + 1) + e.4, p0 + tw + 1); store(load(p1 + tw + 1) + e.5, p1 + tw + 1)
                    }
                }
                // B down the six rows, then each row's phases are added back onto gradX.
                sixRows(buf.mixed.ptr, to: buf.rows.ptr, stride: buf.stride, length: q, bAdj)
                let dst = gx + (n * c + ch) * plane
                for k in 0..<6 {
                    let ih = th * 4 - padding + k
                    if ih < 0 || ih >= height { continue }
                    addPhases(buf.row(k, 0), stride: buf.stride, length: q, onto: dst + ih * width, count: width, offset: padding, pad: buf.padded)
                }
            }
        }
    }
}
