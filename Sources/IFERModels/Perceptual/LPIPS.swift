import IFERLayers

/// AlexNet `features` as LPIPS uses them (torchvision layout, so converted ImageNet weights load
/// by name): conv 11×11 s4 p2 → ReLU → maxpool 3/2 → conv 5×5 p2 → ReLU → maxpool → conv 3×3 ×3
/// with ReLUs. `widths` are the five conv widths (torchvision: 64, 192, 384, 256, 256).
/// Keys: layers.{0,3,6,8,10}.weight/bias; buffers mean, std (LPIPS input shift and scale).
public final class LPIPSAlexNet: Module {
    public let layers: Sequential
    public let mean: Tensor, std: Tensor
    /// 1-based layer counts after which LPIPS reads a feature (after each ReLU).
    public static let taps = [2, 5, 8, 10, 12]
    public let widths: [Int]

    public init(widths: [Int] = [64, 192, 384, 256, 256]) {
        precondition(widths.count == 5, "LPIPSAlexNet needs 5 widths")
        self.widths = widths
        let w = widths
        layers = Sequential([
            Conv2d(3, w[0], kernel: 11, stride: 4, padding: 2), ReLU(), MaxPool2d(kernel: 3, stride: 2),
            Conv2d(w[0], w[1], kernel: 5, padding: 2), ReLU(), MaxPool2d(kernel: 3, stride: 2),
            Conv2d(w[1], w[2], kernel: 3, padding: 1), ReLU(),
            Conv2d(w[2], w[3], kernel: 3, padding: 1), ReLU(),
            Conv2d(w[3], w[4], kernel: 3, padding: 1), ReLU(),
        ])
        mean = buffer([1, 3, 1, 1])
        std = buffer([1, 3, 1, 1])
        fillShiftScale()
    }

    private func fillShiftScale() {
        for (i, v) in [Float(-0.030), -0.088, -0.188].enumerated() { mean.ptr[i] = v }
        for (i, v) in [Float(0.458), 0.448, 0.450].enumerated() { std.ptr[i] = v }
    }

    public var buffers: [(String, Tensor)] { [("mean", mean), ("std", std)] }
    public var children: [(String, Module)] { [("layers", layers)] }
    public func resetParameters(_ rng: inout Philox) { fillShiftScale() }

    /// x [B, 3, H, W] in [-1, 1] -> five unit-normalised feature maps [B, C_l, H_l, W_l]
    public func features(_ x: Tensor) throws -> [Tensor] {
        var h = try div(try sub(x, mean), std)                   // [B, 3, H, W]
        var out: [Tensor] = []
        for (i, l) in layers.layers.enumerated() {
            h = try l(h)
            if LPIPSAlexNet.taps.contains(i + 1) { out.append(try unitNormalize(h)) }
        }
        return out
    }
}

/// x / (‖x‖₂ over channels + 1e-10) (LPIPS `normalize_activation`).
///   x [B, C, H, W] -> same
func unitNormalize(_ x: Tensor) throws -> Tensor {
    let norm = sqrt(try sum(square(x), axes: [1], keepDims: true))   // [B, 1, H, W]
    return try div(x, addScalar(norm, 1e-10))
}

/// LPIPS v0.1 with AlexNet features, in pSp's layout (criteria/lpips): keys net.layers.*,
/// net.mean, net.std and lin.{0..4}.1.weight (1×1 convs to one channel, no bias).
///   loss(x, y) = Σ_l mean_hw(lin_l((f_l(x) − f_l(y))²)) summed over the batch, divided by B.
/// The pretrained weights come from a converted `alex.pth` + torchvision AlexNet; without them
/// the loss is meaningless and the caller must switch it off with a warning.
public final class LPIPS: Module {
    public let net: LPIPSAlexNet
    public let lin: ModuleList
    let heads: [Sequential]

    public init(widths: [Int] = [64, 192, 384, 256, 256]) {
        net = LPIPSAlexNet(widths: widths)
        heads = widths.map { Sequential([Identity(), Conv2d($0, 1, kernel: 1, bias: false)]) }
        lin = ModuleList(heads)
    }

    public var children: [(String, Module)] { [("net", net), ("lin", lin)] }

    /// x, y [B, 3, H, W] in [-1, 1] -> scalar []
    public func callAsFunction(_ x: Tensor, _ y: Tensor) throws -> Tensor {
        guard x.shape == y.shape, x.rank == 4, x.dim(1) == 3 else {
            throw TensorError.shapeMismatch(op: "LPIPS", shapes: [x.shape, y.shape], detail: "expected two image batches [B, 3, H, W]")
        }
        let fx = try net.features(x), fy = try net.features(y)
        var total: Tensor?
        for (l, head) in heads.enumerated() {
            let d = try square(try sub(fx[l], fy[l]))                    // [B, C_l, H_l, W_l]
            let s = sumAll(try mean(try head(d), axes: [2, 3]))         // Σ_b mean_hw
            total = try total.map { try add($0, s) } ?? s
        }
        return scale(total!, 1 / Float(x.dim(0)))
    }
}
