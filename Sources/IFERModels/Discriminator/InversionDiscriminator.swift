import IFERLayers

/// One branch of the inversion discriminator (IFER-master `DiscriminatorModel(size)`): a
/// StyleGAN2 ResNet discriminator without minibatch-stddev and without the final conv/FC stack.
///   convs.0 = ConvLayer 1×1 3→C(size); convs.1… = ResBlocks halving size→4;
///   global average pool; lin = plain nn.Linear(C(4), out_dim).
public final class DiscriminatorBranch: Module {
    public let config: DiscriminatorConfig
    public let convs: Sequential
    public let lin: Linear

    public init(_ config: DiscriminatorConfig) {
        self.config = config
        convs = residualTrunk(config)
        lin = Linear(config.channels(4), config.outDim)
    }

    public var children: [(String, Module)] { [("convs", convs), ("lin", lin)] }

    /// Activation checkpointing of every ResBlock of the trunk (see `ResBlock.checkpointed`).
    public var checkpointBlocks: Bool {
        get { convs.layers.compactMap { $0 as? ResBlock }.allSatisfy(\.checkpointed) }
        set { for case let b as ResBlock in convs.layers { b.checkpointed = newValue } }
    }

    /// x [B, 3, size, size] -> embedding [B, out_dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.dim(1) == 3, x.dim(2) == config.size, x.dim(3) == config.size else {
            throw TensorError.shapeMismatch(op: "DiscriminatorBranch", shapes: [x.shape],
                                            detail: "expected images [B, 3, \(config.size), \(config.size)]")
        }
        let h = try convs(x)                                   // [B, C4, 4, 4]
        let pooled = try mean(h, axes: [2, 3])                 // [B, C4]
        return try lin(pooled)                                 // [B, out_dim]
    }

    /// Forward MACs for one image.
    public var macs: Int {
        var m = 0, r = config.size
        for l in convs.layers {
            if let s = l as? Sequential { let c = convLayerMACs(s, r); m += c.macs; r = c.out }
            if let b = l as? ResBlock { m += b.macs(r); r /= 2 }
        }
        return m + lin.inFeatures * lin.outFeatures
    }
}

/// A module that exposes another module's parameters as buffers: the momentum key network
/// `model_k`, saved and loaded but never trained nor all-reduced. Its reset copies the source,
/// and since `resetAll` visits `model_q` first, a fresh discriminator starts with k = q.
public final class MomentumCopy: Module {
    public let source: Module
    public let copy: Module
    let pairs: [(String, Tensor, Tensor)]   // (key, copy tensor, source tensor)

    public init(of source: Module, copy: Module) {
        self.source = source
        self.copy = copy
        let src = source.namedParameters() + source.namedBuffers()
        let dst = copy.namedParameters() + copy.namedBuffers()
        precondition(src.map(\.0) == dst.map(\.0), "MomentumCopy: the copy must have the source's structure")
        pairs = zip(dst, src).map { ($0.0.0, $0.0.1, $0.1.1) }
        for (_, t, _) in pairs {
            t.kind = .buffer
            t.requiresGrad = false
        }
    }

    public var buffers: [(String, Tensor)] { pairs.map { ($0.0, $0.1) } }

    public func resetParameters(_ rng: inout Philox) {
        for (_, t, s) in pairs { t.ptr.update(from: s.ptr, count: t.count) }
    }

    /// copy ← m·copy + (1 − m)·source, element by element.
    public func update(momentum m: Float) {
        for (_, t, s) in pairs {
            let a = t.ptr, b = s.ptr
            for i in 0..<t.count { a[i] = m * a[i] + (1 - m) * b[i] }
        }
    }
}

/// The image inversion discriminator (IFER-master `Discriminator`): D(a, b) = cos(q(a), k(b)),
/// q trained, k a momentum copy of q. The source image goes into k.
/// Keys: model_q.* (parameters), model_k.* (buffers).
public final class InversionDiscriminator: Module {
    public let config: DiscriminatorConfig
    public let modelQ: DiscriminatorBranch
    public let modelKBranch: DiscriminatorBranch
    public let modelK: MomentumCopy

    public init(_ config: DiscriminatorConfig) {
        self.config = config
        modelQ = DiscriminatorBranch(config)
        modelKBranch = DiscriminatorBranch(config)
        modelK = MomentumCopy(of: modelQ, copy: modelKBranch)
    }

    public var children: [(String, Module)] { [("model_q", modelQ), ("model_k", modelK)] }

    /// a [B, 3, S, S] (query side), b [B, 3, S, S] (key side, the source) -> cos [B, 1]
    public func callAsFunction(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let q = try modelQ(a)                                  // [B, out_dim]
        let k = try modelKBranch(b)                            // [B, out_dim] (buffers: no weight gradient)
        let c = try cosineSimilarity(q, k, axis: -1, eps: 1e-8) // [B]
        return try reshape(c, [q.dim(0), 1])                   // [B, 1]
    }

    /// k ← m·k + (1 − m)·q (IFER-master runs this inside every forward; here the caller decides).
    public func momentumUpdate(_ m: Float? = nil) { modelK.update(momentum: m ?? config.momentum) }
}
