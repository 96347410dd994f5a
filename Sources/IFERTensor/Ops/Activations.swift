import Foundation

/// Activation functions. All are shape-preserving: [..] -> [..].

/// max(x, 0). d/dx = 1 where out > 0.
public func relu(_ x: Tensor) -> Tensor {
    unary("relu", x, { $0 > 0 ? $0 : 0 }, dx: { g, out in try mul(g, constantMap(out) { $0 > 0 ? 1 : 0 }) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] += y[i] > 0 ? g[i] : 0 }
    }
}

/// gain * (x >= 0 ? x : slope * x). StyleGAN2's fused leaky ReLU uses slope 0.2, gain √2.
public func leakyRelu(_ x: Tensor, slope: Float = 0.2, gain: Float = 1) -> Tensor {
    let pos = gain, negative = gain * slope
    return unary("leakyRelu", x, { $0 >= 0 ? $0 * pos : $0 * negative },
                 dx: { g, _ in try mul(g, constantMap(x) { $0 >= 0 ? pos : negative }) }) { g, gx, px, _, n in
        for i in 0..<n { gx[i] += g[i] * (px[i] >= 0 ? pos : negative) }
    }
}

/// StyleGAN2's fused_bias_act: gain · leakyRelu(x + bias[c], slope) in one pass, the bias along
/// axis 1. The same function as leakyRelu(add(x, bias as [C, 1, ...])) without the sum's tensor.
///   x: [N, C, ...], bias: [C] -> [N, C, ...]
/// dx = g · (gain, or gain · slope where the output is negative: with slope, gain > 0 its sign is
/// that of x + bias); dbias = dx summed over every axis but 1. Planes (one image's channel) split
/// over the threads; each channel's bias gradient sums its planes in image order, so the bits do
/// not depend on the thread count.
public func biasLeakyRelu(_ x: Tensor, bias: Tensor, slope: Float = 0.2, gain: Float = 1) throws -> Tensor {
    let op = "biasLeakyRelu"
    guard x.rank >= 2, bias.shape == [x.dim(1)] else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, bias.shape], detail: "bias must be [C] for x [N, C, ...]")
    }
    guard slope > 0, gain > 0 else {
        throw TensorError.badArgument(op: op, detail: "slope (\(slope)) and gain (\(gain)) must be > 0 (the backward reads the sign off the output)")
    }
    let (n, c) = (x.dim(0), x.dim(1))
    let plane = x.count / max(1, n * c)
    let pos = gain, negative = gain * slope
    let out = Tensor(uninitialized: x.shape)
    let px = x.ptr, pb = bias.ptr, po = out.ptr
    Threads.parallel(n * c, work: plane) { planes in
        for p in planes {
            let b = pb[p % c], xs = px + p * plane, ys = po + p * plane
            for i in 0..<plane { let v = xs[i] + b; ys[i] = v >= 0 ? v * pos : v * negative }
        }
    }
    return Autograd.record(op, output: out, inputs: [x, bias], vjp: { g, needs in
        let gx = try mul(g, constantMap(out) { $0 >= 0 ? pos : negative })
        let gb = needs[1] ? try reshape(try sum(gx, axes: [0] + Array(2..<x.rank)), [c]) : nil
        return [needs[0] ? gx : nil, gb]
    }) { g in
        let pg = g.ptr
        if x.requiresGrad {
            let gx = x.gradOrCreate().ptr
            Threads.parallel(x.count) { r in
                for i in r { gx[i] += pg[i] * (po[i] >= 0 ? pos : negative) }
            }
        }
        if bias.requiresGrad {
            let gb = bias.gradOrCreate().ptr
            Threads.parallel(c, work: n * plane) { channels in
                for ch in channels {
                    var total: Float = 0
                    for img in 0..<n {
                        let o = (img * c + ch) * plane
                        var acc: Float = 0
                        for i in 0..<plane { acc += pg[o + i] * (po[o + i] >= 0 ? pos : negative) }
                        total += acc
                    }
                    gb[ch] += total
                }
            }
        }
    }
}

/// Φ(x) and φ(x) of the standard normal, vectorisable: erf by Abramowitz & Stegun 7.1.26
/// (absolute error <= 1.5e-7, the same formula as PyTorch's vectorised erf) on top of `fastExp`,
/// whose e^(-x²/2) is also the density.
@inline(__always)
func normalCdfPdf(_ x: Float) -> (cdf: Float, pdf: Float) {
    let z = Swift.abs(x) * 0.70710678118654752
    let t = 1 / (1 + 0.3275911 * z)
    var q: Float = 1.061405429
    q = q * t - 1.453152027
    q = q * t + 1.421413741
    q = q * t - 0.284496736
    q = q * t + 0.254829592
    let e = fastExp(-z * z)
    let erfAbs = 1 - q * t * e
    let erf = x < 0 ? -erfAbs : erfAbs
    return (0.5 * (1 + erf), 0.39894228040143268 * e)
}

/// Exact GELU, x Φ(x) = 0.5 x (1 + erf(x / √2)) (PyTorch's default, not the tanh approximation).
/// d/dx = Φ(x) + x φ(x), φ the standard normal density.
public func gelu(_ x: Tensor) -> Tensor {
    unary("gelu", x, { $0 * normalCdfPdf($0).cdf }) { g, gx, px, _, n in
        for i in 0..<n {
            let (cdf, pdf) = normalCdfPdf(px[i])
            gx[i] += g[i] * (cdf + px[i] * pdf)
        }
    }
}

/// 1 / (1 + e^-x). d/dx = out (1 - out).
public func sigmoid(_ x: Tensor) -> Tensor {
    unary("sigmoid", x, { 1 / (1 + fastExp(-$0)) },
                 dx: { g, out in try mul(g, try mul(out, addScalar(neg(out), 1))) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] += g[i] * y[i] * (1 - y[i]) }
    }
}

/// Hyperbolic tangent. d/dx = 1 - out².
public func tanh(_ x: Tensor) -> Tensor {
    unary("tanh", x, { Foundation.tanh($0) }, dx: { g, out in try mul(g, addScalar(neg(square(out)), 1)) }) { g, gx, _, y, n in
        for i in 0..<n { gx[i] += g[i] * (1 - y[i] * y[i]) }
    }
}
