import IFERLayers

/// One GC ViT level (`GCViTLayer`): `depth` blocks alternating local (even) and global-query (odd)
/// window attention, then an optional ReduceSize (C → 2C, R → R/2).
///
/// The global-query generator `to_q_global` (FeatExtract chain: log2(R/w) pooling steps, or one
/// width-keeping step when R = w) turns the level input into one w×w query map per image, computed
/// once and shared by every global block of the level.
/// Keys: blocks.{i}, downsample, to_q_global.{j}.
public final class GCViTLevel: Module {
    public let blocks: [GCViTBlock]
    public let downsample: ReduceSize?
    public let toQGlobal: Sequential
    public let dim: Int, heads: Int, window: Int, resolution: Int
    /// true = the authors' code: bugs (a) reshape instead of permute into the generator, (b) the
    /// query map reshaped into heads without moving channels last, (c) the query tiled batch-wise
    /// (b0, b1, b0, …) while windows are batch-major. false = the fix (NVlabs/GCVit PR #12).
    public let asCoded: Bool

    public init(dim: Int, depth: Int, resolution: Int, heads: Int, window: Int, mlpRatio: Float, qkvBias: Bool,
                dropPaths: [Float], layerScale: Float, downsample: Bool, asCoded: Bool) {
        self.dim = dim
        self.heads = heads
        self.window = window
        self.resolution = resolution
        self.asCoded = asCoded
        blocks = (0..<depth).map { i in
            GCViTBlock(dim: dim, heads: heads, window: window, mlpRatio: mlpRatio, qkvBias: qkvBias,
                       dropPath: dropPaths[i], layerScale: layerScale, global: i % 2 == 1)
        }
        self.downsample = downsample ? ReduceSize(dim, keepDim: false) : nil
        var pools = 0
        while (window << pools) < resolution { pools += 1 }
        toQGlobal = Sequential(pools == 0 ? [FeatExtract(dim, keep: true)]
                                          : (0..<pools).map { _ in FeatExtract(dim, keep: false) })
    }

    public var children: [(String, Module)] {
        var c: [(String, Module)] = [("blocks", ModuleList(blocks))]
        if let d = downsample { c.append(("downsample", d)) }
        c.append(("to_q_global", toQGlobal))
        return c
    }

    /// x [B, R, R, C] -> [B, R/2, R/2, 2C] (with downsample) or [B, R, R, C].
    public func callAsFunction(_ x: Tensor, rngs: inout [Philox]) throws -> Tensor {
        guard x.rank == 4, x.dim(1) == resolution, x.dim(2) == resolution, x.dim(3) == dim else {
            throw TensorError.shapeMismatch(op: "GCViTLevel(dim \(dim), \(resolution)×\(resolution))", shapes: [x.shape],
                                            detail: "expected [B, \(resolution), \(resolution), \(dim)]")
        }
        let q = try globalQuery(x)
        var y = x
        for blk in blocks {
            y = try blk(y, qGlobal: blk.attn.isGlobal ? q : nil, rngs: &rngs)
        }
        if let d = downsample { y = try d(y) }
        return y
    }

    /// The level's query, split into heads and tiled to one copy per window:
    /// x [B, R, R, C] -> [B·nW, h, w², d] (window order batch-major, like windowPartition).
    func globalQuery(_ x: Tensor) throws -> Tensor {
        let b = x.dim(0), n = window * window, d = dim / heads
        let nw = (resolution / window) * (resolution / window)
        let input = asCoded ? try reshape(x, [b, dim, resolution, resolution])   // bug (a): a view, not a permute
                            : try permute(x, [0, 3, 1, 2])                      // [B, C, R, R]
        let qmap = try toQGlobal(input)                                          // [B, C, w, w]
        guard qmap.shape == [b, dim, window, window] else {
            throw TensorError.shapeMismatch(op: "GCViTLevel.to_q_global", shapes: [qmap.shape],
                                            detail: "the query generator must give [\(b), \(dim), \(window), \(window)]")
        }
        if asCoded {
            // Bugs (b) and (c): q_global.repeat(nW, 1, 1, 1).reshape(B·nW, h, N, d).
            let tiled = try concat(Array(repeating: qmap, count: nw), axis: 0)  // [nW·B, C, w, w]
            return try reshape(tiled, [b * nw, heads, n, d])
        }
        // Tokens × channels, split heads, then each image's query serves that image's windows.
        let q = try permute(try reshape(try permute(qmap, [0, 2, 3, 1]), [b, n, heads, d]), [0, 2, 1, 3])  // [B, h, N, d]
        let q5 = try reshape(q, [b, 1, heads, n, d])
        let tiled = try concat(Array(repeating: q5, count: nw), axis: 1)         // [B, nW, h, N, d]
        return try reshape(tiled, [b * nw, heads, n, d])
    }
}
