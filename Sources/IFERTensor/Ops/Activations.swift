import Foundation

/// Activation functions. All are shape-preserving: [..] -> [..].

/// max(x, 0). d/dx = 1 where out > 0.
public func relu(_ x: Tensor) -> Tensor {
    unary("relu", x, { $0 > 0 ? $0 : 0 }) { g, gx, out in
        let y = out.ptr
        for i in 0..<x.count { gx[i] += y[i] > 0 ? g[i] : 0 }
    }
}

/// gain * (x >= 0 ? x : slope * x). StyleGAN2's fused leaky ReLU uses slope 0.2, gain √2.
public func leakyRelu(_ x: Tensor, slope: Float = 0.2, gain: Float = 1) -> Tensor {
    let pos = gain, negative = gain * slope
    return unary("leakyRelu", x, { $0 >= 0 ? $0 * pos : $0 * negative }) { g, gx, _ in
        let px = x.ptr
        for i in 0..<x.count { gx[i] += g[i] * (px[i] >= 0 ? pos : negative) }
    }
}

/// Exact GELU, x Φ(x) = 0.5 x (1 + erf(x / √2)) (PyTorch's default, not the tanh approximation).
/// d/dx = Φ(x) + x φ(x), φ the standard normal density.
public func gelu(_ x: Tensor) -> Tensor {
    let invSqrt2: Float = 0.70710678118654752, invSqrt2Pi: Float = 0.39894228040143268
    return unary("gelu", x, { 0.5 * $0 * (1 + Foundation.erf($0 * invSqrt2)) }) { g, gx, _ in
        let px = x.ptr
        for i in 0..<x.count {
            let v = px[i]
            let cdf = 0.5 * (1 + Foundation.erf(v * invSqrt2))
            let pdf = invSqrt2Pi * Foundation.exp(-0.5 * v * v)
            gx[i] += g[i] * (cdf + v * pdf)
        }
    }
}

/// 1 / (1 + e^-x). d/dx = out (1 - out).
public func sigmoid(_ x: Tensor) -> Tensor {
    unary("sigmoid", x, { 1 / (1 + Foundation.exp(-$0)) }) { g, gx, out in
        let y = out.ptr
        for i in 0..<x.count { gx[i] += g[i] * y[i] * (1 - y[i]) }
    }
}

/// Hyperbolic tangent. d/dx = 1 - out².
public func tanh(_ x: Tensor) -> Tensor {
    unary("tanh", x, { Foundation.tanh($0) }) { g, gx, out in
        let y = out.ptr
        for i in 0..<x.count { gx[i] += g[i] * (1 - y[i] * y[i]) }
    }
}
