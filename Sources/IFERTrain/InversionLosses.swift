import Foundation

/// The losses of the `asit` stage (reference section 4), with the intended semantics where the
/// authors' code differs: the adversarial term reaches the encoder, and the distribution-alignment
/// loss compares whole batches (any batch >= 2).
public enum InversionLosses {
    /// Discriminator: mean (D(x, x) − 1)² + mean (D(ŷ, x) + 1)², cosines [B, 1] in, scalar out.
    public static func discriminator(real: Tensor, fake: Tensor) throws -> Tensor {
        let r = meanAll(square(addScalar(real, -1)))
        let f = meanAll(square(addScalar(fake, 1)))
        return try add(r, f)
    }

    /// Encoder side of the least-squares game: mean (D(ŷ, x) − 1)².
    public static func adversarial(_ fake: Tensor) -> Tensor { meanAll(square(addScalar(fake, -1))) }

    /// Pairwise-similarity logits of a batch of feature maps: cos(vec f_i, vec f_j) off the
    /// diagonal and a constant 0 on it. A row's softmax is then a distribution over the other
    /// samples plus one fixed "none of them" slot, which keeps the loss informative at a batch of
    /// 2: there it is the binary KL between σ(cos_s) and σ(cos_t) of the pair, exactly what the
    /// authors' code computes (its unused slots hold 0), while larger batches compare whole rows.
    ///   f [N, ...] -> [N, N]
    static func similarityLogits(_ f: Tensor) throws -> Tensor {
        let n = f.dim(0)
        let flat = try reshape(f, [n, -1])                                               // [N, D]
        let unit = try mul(flat, rsqrt(addScalar(try sum(square(flat), axes: [1], keepDims: true), 1e-12)))
        let cos = try matmul(unit, unit, transposeB: true)                               // [N, N]
        let offDiagonal = Tensor(filled: 1, shape: [n, n])
        for i in 0..<n { offDiagonal.ptr[i * n + i] = 0 }
        return try mul(cos, offDiagonal)
    }

    /// Distribution alignment (Ojha et al. 2021, as IFER intends it): for every layer l and anchor
    /// i, p^s_i = softmax over j ≠ i of cos(F^s_l[i], F^s_l[j]) (plus the constant slot, see
    /// similarityLogits) over generator features of random samples (constants), p^t_i likewise
    /// over the encoder's features; L = Σ_l Σ_i KL(p^s_i ‖ p^t_i). It aligns the similarity
    /// structure of the two batches, not the features themselves.
    public static func distribution(source: [Tensor], target: [Tensor]) throws -> Tensor {
        guard source.count == target.count, !source.isEmpty else {
            throw TensorError.badArgument(op: "distribution loss", detail: "\(source.count) generator layers vs \(target.count) encoder layers")
        }
        var total: Tensor?
        for (s, t) in zip(source, target) {
            guard s.dim(0) == t.dim(0), s.dim(0) >= 2 else {
                throw TensorError.badArgument(op: "distribution loss", detail: "needs the same batch of at least 2 on both sides, got \(s.dim(0)) and \(t.dim(0))")
            }
            let ps = try Autograd.noGrad { try softmax(try similarityLogits(s), axis: -1) }
            let logPt = try logSoftmax(try similarityLogits(t), axis: -1)
            let kl = try klDivergence(logPt, ps, reduction: .sum)
            total = try total.map { try add($0, kl) } ?? kl
        }
        return total!
    }

    /// ArcFace identity loss: mean_i (1 − ⟨e(ŷ_i), e(y_i)⟩) with e = IR-SE50 on the face crop
    /// (rows 35:223, columns 32:220 of a 256 px image, scaled for other sizes), pooled to the
    /// network's input size. y is a constant.
    public static func identity(_ net: IRSE50, _ yHat: Tensor, _ y: Tensor) throws -> Tensor {
        func embed(_ x: Tensor) throws -> Tensor {
            let s = x.dim(2)
            func at(_ v: Int) -> Int { v * s / 256 }
            let crop = try slice(try slice(x, axis: 2, start: at(35), end: at(223)), axis: 3, start: at(32), end: at(220))
            return try net(try adaptiveAvgPool2d(crop, outputSize: (net.inputSize, net.inputSize)))
        }
        let target = try Autograd.noGrad { try embed(y) }
        let dot = try sum(try mul(try embed(yHat), target), axes: [1])                   // [B]
        return addScalar(neg(meanAll(dot)), 1)
    }
}
