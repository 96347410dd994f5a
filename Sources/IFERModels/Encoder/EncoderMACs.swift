import IFERLayers

// Forward multiply-accumulates for one image, counted like torch.utils.flop_counter: matrix
// products (linear layers, attention's q·kᵀ and A·v) and convolutions only; norms, softmax,
// activations, pooling and resizing are free. Paper encoder: 64,164,634,624 (paper-state-dict.md §2).

extension Linear {
    /// MACs for `rows` input vectors.
    func macs(rows: Int) -> Int { rows * inFeatures * outFeatures }
}

extension Sequential {
    /// MACs of a conv / activation / SE chain on an r×r map (the mbConv body).
    func bodyMACs(_ r: Int) -> Int {
        layers.reduce(0) { acc, l in
            if let c = l as? Conv2d { return acc + c.macs(height: r, width: r) }
            if let se = l as? SqueezeExcite { return acc + se.macs }
            return acc
        }
    }
}

extension SqueezeExcite {
    var macs: Int {
        fc.layers.reduce(0) { acc, l in acc + ((l as? Linear)?.macs(rows: 1) ?? 0) }
    }
}

extension FeatExtract {
    /// On an r×r input.
    func macs(_ r: Int) -> Int { conv.bodyMACs(r) }
}

extension ReduceSize {
    /// On an r×r input.
    func macs(_ r: Int) -> Int { conv.bodyMACs(r) + reduction.macs(height: r, width: r) }
}

extension WindowAttention {
    /// For `tokens` tokens (all windows of one image): projections plus q·kᵀ and A·v.
    func macs(tokens: Int) -> Int {
        qkv.macs(rows: tokens) + 2 * tokens * window * window * dim + proj.macs(rows: tokens)
    }
}

extension Mlp {
    func macs(tokens: Int) -> Int { fc1.macs(rows: tokens) + fc2.macs(rows: tokens) }
}

extension GCViTBlock {
    func macs(_ r: Int) -> Int { attn.macs(tokens: r * r) + mlp.macs(tokens: r * r) }
}

extension GCViTLevel {
    var macs: Int {
        var m = blocks.reduce(0) { $0 + $1.macs(resolution) }
        var r = resolution
        for case let f as FeatExtract in toQGlobal.layers {
            m += f.macs(r)
            if !f.keep { r = (r + 1) / 2 }
        }
        if let d = downsample { m += d.macs(resolution) }
        return m
    }
}

extension StyleBlock {
    func macs(_ r: Int) -> Int { attn.macs(tokens: r * r) + mlp.macs(tokens: r * r) }
}

extension GradualStyleBlock {
    /// From an s×s map.
    func macs(_ s: Int) -> Int {
        var m = 0, r = s
        for l in blocks.layers {
            if let c = l as? Conv2d { m += c.macs(height: r, width: r); r = c.outputSize(r) }
            else if let b = l as? StyleBlock { m += b.macs(r) }
            else if l is MaxPool2d { r /= 2 }
        }
        return m + linear.inFeatures * linear.outFeatures
    }
}

extension ASITEncoder {
    /// Forward MACs for one image.
    public var macs: Int {
        let c = config
        var m = patchEmbed.proj.macs(height: c.imageSize, width: c.imageSize)
        m += patchEmbed.convDown.macs(c.imageSize / 2)
        for l in levels { m += l.macs }
        for (i, conv) in convs.enumerated() { m += conv.macs(height: c.levelResolution(i), width: c.levelResolution(i)) }
        m += lastBlock.macs(height: c.levelResolution(c.levels - 1), width: c.levelResolution(c.levels - 1))
        var j = 0
        for (g, n) in c.styleCounts.enumerated() {
            let s = c.styleSpatial(group: g)
            if g > 0 { m += latlayers[g - 1].macs(height: s, width: s) }
            for _ in 0..<n { m += styles[j].macs(s); j += 1 }
        }
        return m
    }
}
