/// Matrix products through cblas_sgemm.
///
/// matmul(a, b, transposeA:, transposeB:) multiplies the last two axes; leading axes are batch
/// axes. `b` may be rank 2 and is then shared by every batch entry (a linear layer over tokens).
///   a: [..., M, K] (or [..., K, M] with transposeA)
///   b: [..., K, N] (or [..., N, K] with transposeB), or rank 2
///   out: [..., M, N]
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    let op = "matmul"
    guard a.rank >= 2, b.rank >= 2 else {
        throw TensorError.shapeMismatch(op: op, shapes: [a.shape, b.shape], detail: "both operands need rank >= 2")
    }
    let m = transposeA ? a.dim(-1) : a.dim(-2)
    let k = transposeA ? a.dim(-2) : a.dim(-1)
    let kb = transposeB ? b.dim(-1) : b.dim(-2)
    let n = transposeB ? b.dim(-2) : b.dim(-1)
    try check(k == kb, op, [a.shape, b.shape], "inner dimensions \(k) and \(kb) differ")
    let batchShape = Array(a.shape.dropLast(2))
    let batch = batchShape.reduce(1, *)
    let sharedB = b.rank == 2
    if !sharedB {
        try check(Array(b.shape.dropLast(2)) == batchShape, op, [a.shape, b.shape], "batch axes differ")
    }
    let out = Tensor(uninitialized: batchShape + [m, n])  // beta = 0 writes every element
    let lda = a.dim(-1), ldb = b.dim(-1)
    let aStride = m * k, bStride = sharedB ? 0 : k * n, cStride = m * n

    if sharedB && !transposeA {
        // Fold the batch into M: one big GEMM is faster than `batch` small ones.
        sgemm(transA: false, transB: transposeB, m: batch * m, n: n, k: k, a: a.ptr, lda: lda,
              b: b.ptr, ldb: ldb, beta: 0, c: out.ptr, ldc: n)
    } else {
        // A batch of products (attention's windows and heads): over the threads, one product each.
        forEachProduct(batch, macs: m * n * k) { i, split in
            sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a.ptr + i * aStride, lda: lda,
                  b: b.ptr + i * bStride, ldb: ldb, beta: 0, c: out.ptr + i * cStride, ldc: n, split: split)
        }
    }

    return Autograd.record(op, output: out, inputs: [a, b], vjp: { g, needs in
        try matmulVJP(a, b, g, needs, transposeA: transposeA, transposeB: transposeB)
    }) { g in
        // C = op(A) op(B). With dC = g:
        //   dA = dC op(B)^T      (stored transposed when transposeA: dA = op(B) dC^T)
        //   dB = op(A)^T dC      (stored transposed when transposeB: dB = dC^T op(A))
        if a.requiresGrad {
            let ga = a.gradOrCreate()
            if sharedB && !transposeA {
                sgemm(transA: false, transB: !transposeB, m: batch * m, n: k, k: n, a: g.ptr, lda: n,
                      b: b.ptr, ldb: ldb, beta: 1, c: ga.ptr, ldc: k)
            } else {
                forEachProduct(batch, macs: m * n * k) { i, split in
                    let gi = g.ptr + i * cStride, bi = b.ptr + i * bStride, ai = ga.ptr + i * aStride
                    if !transposeA {
                        sgemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: gi, lda: n,
                              b: bi, ldb: ldb, beta: 1, c: ai, ldc: k, split: split)
                    } else {
                        // dA [K, M] = op(B) [K, N] * dC^T [N, M]
                        sgemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: bi, lda: ldb,
                              b: gi, ldb: n, beta: 1, c: ai, ldc: m, split: split)
                    }
                }
            }
        }
        if b.requiresGrad {
            let gb = b.gradOrCreate()
            if sharedB && !transposeA {
                if !transposeB {
                    // dB [K, N] = A^T [K, BM] * dC [BM, N]
                    sgemm(transA: true, transB: false, m: k, n: n, k: batch * m, a: a.ptr, lda: lda,
                          b: g.ptr, ldb: n, beta: 1, c: gb.ptr, ldc: n)
                } else {
                    // dB [N, K] = dC^T [N, BM] * A [BM, K]
                    sgemm(transA: true, transB: false, m: n, n: k, k: batch * m, a: g.ptr, lda: n,
                          b: a.ptr, ldb: lda, beta: 1, c: gb.ptr, ldc: k)
                }
            } else {
                // A shared B (bStride 0) sums every entry's product into one gradient: in order.
                forEachProduct(batch, macs: m * n * k, distinct: bStride != 0) { i, split in
                    let gi = g.ptr + i * cStride, ai = a.ptr + i * aStride, bi = gb.ptr + i * bStride
                    if !transposeB {
                        // dB [K, N] = op(A)^T [K, M] * dC [M, N]
                        sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: ai, lda: lda,
                              b: gi, ldb: n, beta: 1, c: bi, ldc: n, split: split)
                    } else {
                        // dB [N, K] = dC^T [N, M] * op(A) [M, K]
                        sgemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: gi, lda: n,
                              b: ai, ldb: lda, beta: 1, c: bi, ldc: k, split: split)
                    }
                }
            }
        }
    }
}

/// matmul's gradients written with matmul itself (for second-order gradients), C = op(A) op(B):
///   dA = dC op(B)^T (or op(B) dC^T when transposeA), dB = op(A)^T dC (or dC^T op(A) when transposeB).
/// A shared rank-2 B takes the batch folded into the rows of A and dC.
private func matmulVJP(_ a: Tensor, _ b: Tensor, _ g: Tensor, _ needs: [Bool],
                       transposeA: Bool, transposeB: Bool) throws -> [Tensor?] {
    let sharedB = b.rank == 2 && a.rank > 2
    var ga: Tensor? = nil, gb: Tensor? = nil
    if needs[0] {
        if !transposeA {
            ga = try matmul(g, b, transposeB: !transposeB)                          // [..., M, K]
        } else if !sharedB {
            ga = try matmul(b, g, transposeA: transposeB, transposeB: true)         // [..., K, M]
        } else {
            throw TensorError.badArgument(op: "matmul", detail: "second-order gradient of a transposed batched A with a shared B \(b.shape) is not supported")
        }
    }
    if needs[1] {
        var a2 = a, g2 = g
        if sharedB {
            guard !transposeA else {
                throw TensorError.badArgument(op: "matmul", detail: "second-order gradient of a transposed batched A with a shared B \(b.shape) is not supported")
            }
            a2 = try reshape(a, [-1, a.dim(-1)])                                    // [B·M, K]
            g2 = try reshape(g, [-1, g.dim(-1)])                                    // [B·M, N]
        }
        gb = transposeB ? try matmul(g2, a2, transposeA: true, transposeB: transposeA)   // [..., N, K]
                        : try matmul(a2, g2, transposeA: !transposeA)                   // [..., K, N]
    }
    return [ga, gb]
}
