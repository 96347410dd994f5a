import IFERLayers

/// Swin's relative-position index for a w×w window: entry (i, j) picks the bias-table row of the
/// offset from token j to token i, (dy + w − 1)·(2w − 1) + (dx + w − 1). Row-major [w², w²].
public func relativePositionIndex(window w: Int) -> [Int] {
    let n = w * w
    var idx = [Int](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n {
            let dy = i / w - j / w + w - 1, dx = i % w - j % w + w - 1
            idx[i * n + j] = dy * (2 * w - 1) + dx
        }
    }
    return idx
}

/// Multi-head attention inside w×w windows with a learned relative-position bias.
///
/// Local (`global == false`): q, k, v all come from the window tokens, qkv = Linear(C, 3C).
/// Global query (`global == true`): k, v from the tokens, kv = Linear(C, 2C) (key `qkv`), and q
/// is the level's global query map, already split into heads and tiled per window by the level.
///   A = softmax(q·kᵀ/√d + B_rel) per head;  out = proj(A·v)
/// Keys: relative_position_bias_table [(2w−1)², h], qkv, proj.
public final class WindowAttention: Module {
    public let dim: Int, heads: Int, window: Int, isGlobal: Bool
    public let relativePositionBiasTable: Tensor
    public let qkv: Linear
    public let proj: Linear
    let index: [Int]

    public init(dim: Int, heads: Int, window: Int, qkvBias: Bool = true, global: Bool = false) {
        self.dim = dim
        self.heads = heads
        self.window = window
        self.isGlobal = global
        relativePositionBiasTable = parameter([(2 * window - 1) * (2 * window - 1), heads])
        qkv = Linear(dim, dim * (global ? 2 : 3), bias: qkvBias, init: .truncatedNormal(std: 0.02))
        proj = Linear(dim, dim, init: .truncatedNormal(std: 0.02))
        index = relativePositionIndex(window: window)
    }

    public var parameters: [(String, Tensor)] { [("relative_position_bias_table", relativePositionBiasTable)] }
    public var children: [(String, Module)] { [("qkv", qkv), ("proj", proj)] }
    public func resetParameters(_ rng: inout Philox) { relativePositionBiasTable.fillTruncatedNormal(&rng, std: 0.02) }

    /// x [B_, N, C] window tokens (N = w²); qGlobal [B_, h, N, d] for the global variant.
    /// Returns [B_, N, C].
    public func callAsFunction(_ x: Tensor, qGlobal: Tensor? = nil) throws -> Tensor {
        let b = x.dim(0), n = x.dim(1), c = x.dim(2), d = c / heads
        guard x.rank == 3, n == window * window, c == dim else {
            throw TensorError.shapeMismatch(op: "WindowAttention(dim \(dim), window \(window))", shapes: [x.shape],
                                            detail: "expected [windows, \(window * window), \(dim)]")
        }
        let q: Tensor, k: Tensor, v: Tensor
        if isGlobal {
            guard let qg = qGlobal, qg.shape == [b, heads, n, d] else {
                throw TensorError.shapeMismatch(op: "WindowAttention(global)", shapes: [x.shape, qGlobal?.shape ?? []],
                                                detail: "the global query must be [\(b), \(heads), \(n), \(d)]")
            }
            let kv = try permute(try reshape(try qkv(x), [b, n, 2, heads, d]), [2, 0, 3, 1, 4])  // [2, B_, h, N, d]
            let parts = try split(kv, sizes: [1, 1], axis: 0)
            k = try reshape(parts[0], [b, heads, n, d])
            v = try reshape(parts[1], [b, heads, n, d])
            q = qg
        } else {
            let t = try permute(try reshape(try qkv(x), [b, n, 3, heads, d]), [2, 0, 3, 1, 4])    // [3, B_, h, N, d]
            let parts = try split(t, sizes: [1, 1, 1], axis: 0)
            q = try reshape(parts[0], [b, heads, n, d])
            k = try reshape(parts[1], [b, heads, n, d])
            v = try reshape(parts[2], [b, heads, n, d])
        }
        var attn = try matmul(try scale(q, 1 / Float(d).squareRoot()), k, transposeB: true)     // [B_, h, N, N]
        let bias = try indexSelect(relativePositionBiasTable, axis: 0, indices: index)          // [N·N, h]
        attn = try add(attn, try permute(try reshape(bias, [n, n, heads]), [2, 0, 1]))          // + [h, N, N]
        attn = try softmax(attn, axis: -1)
        let out = try matmul(attn, v)                                                           // [B_, h, N, d]
        return try proj(try reshape(try permute(out, [0, 2, 1, 3]), [b, n, c]))                 // [B_, N, C]
    }
}
