import CBLAS

/// C = alpha · op(A) · op(B) + beta · C, row-major, where op(A) is [m, k] and op(B) is [k, n];
/// transposes are BLAS flags, never copies.
///
/// OpenBLAS runs on one thread (see `Threads`); a product of at least `GEMMSplit.minimum`
/// multiply-adds is cut here into row blocks of C (column blocks when C is wider than tall), one
/// single-threaded cblas_sgemm per compute thread. `split: false` keeps the call on this thread:
/// for callers that already run on every compute thread (a batch of products, Winograd's team).
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true) {
    if m == 0 || n == 0 { return }
    let threads = Threads.blas
    guard split, threads > 1, m * n * k >= GEMMSplit.minimum, max(m, n) >= 2 * GEMMSplit.block else {
        return sgemmOneThread(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    if m >= n {
        // Rows i0..<i1 of C take rows i0..<i1 of op(A) (columns of A when transposed).
        GEMMSplit.blocks(m) { i0, i1 in
            sgemmOneThread(transA, transB, i1 - i0, n, k, alpha, transA ? a + i0 : a + i0 * lda, lda, b, ldb, beta, c + i0 * ldc, ldc)
        }
    } else {
        // Columns j0..<j1 of C take columns j0..<j1 of op(B) (rows of B when transposed).
        GEMMSplit.blocks(n) { j0, j1 in
            sgemmOneThread(transA, transB, m, j1 - j0, k, alpha, a, lda, transB ? b + j0 * ldb : b + j0, ldb, beta, c + j0, ldc)
        }
    }
}

enum GEMMSplit {
    /// Multiply-adds below which one thread does the whole product (~25 µs of work: waking a
    /// second thread costs a few).
    static let minimum = 1 << 20
    /// Cuts fall on multiples of this many rows or columns (whole micro-kernel tiles).
    static let block = 32

    /// body(lo, hi) for one consecutive range of 0..<length per compute thread, cut at multiples
    /// of `block`.
    @inline(__always)
    static func blocks(_ length: Int, _ body: (Int, Int) -> Void) {
        let tiles = (length + block - 1) / block
        Threads.parallel(tiles, work: Threads.parallelMinimum) { r in
            body(r.lowerBound * block, min(length, r.upperBound * block))
        }
    }
}

@inline(__always)
private func sgemmOneThread(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                            _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// body(i, split) for i in 0..<count, where each body makes products of about `macs`
/// multiply-adds that write outputs of their own (`distinct`): the entries then run over the
/// compute threads with one-thread products (split: false). Otherwise, or for a lone entry, they
/// run in order here and each product cuts itself (split: true).
@inline(__always)
public func forEachProduct(_ count: Int, macs: Int, distinct: Bool = true, _ body: (Int, Bool) -> Void) {
    if distinct && count > 1 && Threads.blas > 1 && count * macs >= GEMMSplit.minimum {
        Threads.parallel(count, work: Threads.parallelMinimum) { r in for i in r { body(i, false) } }
    } else {
        for i in 0..<count { body(i, true) }
    }
}
