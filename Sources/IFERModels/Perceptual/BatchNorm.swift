import IFERLayers

/// torch.nn.BatchNorm2d / BatchNorm1d in evaluation mode (the frozen IR-SE50 only runs in eval):
///   y = (x − running_mean)·weight/√(running_var + eps) + bias, per channel (axis 1).
/// Keys: weight, bias (parameters), running_mean, running_var (buffers). PyTorch's integer
/// num_batches_tracked is not kept (the converters drop and re-create it).
public final class BatchNorm: Layer {
    public let channels: Int
    public let eps: Float
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor

    public init(_ channels: Int, eps: Float = 1e-5) {
        self.channels = channels
        self.eps = eps
        weight = parameter([channels]); bias = parameter([channels])
        runningMean = buffer([channels]); runningVar = buffer([channels])
    }

    public var parameters: [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
    public var buffers: [(String, Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }
    public func resetParameters(_ rng: inout Philox) {
        weight.fill(1); bias.fill(0); runningMean.fill(0); runningVar.fill(1)
    }

    /// x [N, C, ...] -> same
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 2, x.dim(1) == channels else {
            throw TensorError.shapeMismatch(op: "BatchNorm(\(channels))", shapes: [x.shape], detail: "axis 1 must be \(channels)")
        }
        let shape = [channels] + [Int](repeating: 1, count: x.rank - 2)
        let s = try mul(weight, rsqrt(addScalar(runningVar, eps)))          // [C]
        let shift = try sub(bias, mul(runningMean, s))                      // [C]
        return try add(mul(x, reshape(s, shape)), reshape(shift, shape))   // [N, C, ...]
    }
}

/// torch.nn.PReLU(C): max(0, x) + a_c·min(0, x).  weight [C]
public final class PReLU: Layer {
    public let weight: Tensor
    public init(_ channels: Int) { weight = parameter([channels]) }
    public var parameters: [(String, Tensor)] { [("weight", weight)] }
    public func resetParameters(_ rng: inout Philox) { weight.fill(0.25) }

    /// x [N, C, ...] -> same
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 2, x.dim(1) == weight.count else {
            throw TensorError.shapeMismatch(op: "PReLU(\(weight.count))", shapes: [x.shape], detail: "axis 1 must be \(weight.count)")
        }
        let a = try reshape(weight, [weight.count] + [Int](repeating: 1, count: x.rank - 2))
        return try sub(relu(x), mul(a, relu(neg(x))))
    }
}
