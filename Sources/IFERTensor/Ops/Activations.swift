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
    let out = Tensor(uninitialized: x.shape)
    let px = x.ptr, po = out.ptr, n = x.count
    // y = x Φ(x), Φ(x) = (1 + erf(x/√2)) / 2; eight lanes at a time (see fastErf8).
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = 0.5 * v * (1 + fastErf8(v * 0.70710678118654752))
        UnsafeMutableRawPointer(po + i).storeBytes(of: y, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { po[i] = 0.5 * px[i] * (1 + fastErf(px[i] * 0.70710678118654752)); i += 1 }
    return Autograd.record("gelu", output: out, inputs: [x]) { g in
        // dy/dx = Φ(x) + x φ(x), φ(x) = e^(-x²/2) / √(2π).
        let gx = x.gradOrCreate().ptr, pg = g.ptr
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Float>.self)
            let gv = UnsafeRawPointer(pg + i).loadUnaligned(as: SIMD8<Float>.self)
            let acc = UnsafeRawPointer(gx + i).loadUnaligned(as: SIMD8<Float>.self)
            let cdf = 0.5 * (1 + fastErf8(v * 0.70710678118654752))
            let pdf = 0.39894228040143268 * fastExp8(-0.5 * v * v)
            UnsafeMutableRawPointer(gx + i).storeBytes(of: acc + gv * (cdf + v * pdf), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let v = px[i]
            gx[i] += pg[i] * (0.5 * (1 + fastErf(v * 0.70710678118654752)) + v * 0.39894228040143268 * fastExp(-0.5 * v * v))
            i += 1
        }
    }
}

/// Eight-lane fastExp (same polynomial): SIMD types make the vectorisation explicit.
@inline(__always)
public func fastExp8(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = x0.clamped(lowerBound: SIMD8(repeating: -87.33), upperBound: SIMD8(repeating: 88.72))
    // t's low mantissa bits hold round(x / ln 2) as an integer (1.5·2^23 magic), so 2^n comes
    // from integer arithmetic on its bits: no float-to-int conversion.
    let t = x * 1.44269504088896341 + 12_582_912
    let n = t - 12_582_912
    let r = x - n * 0.693359375 + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3333519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    let e = (unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(e, to: SIMD8<Float>.self)
}

/// Eight-lane fastErf (same rational polynomial).
@inline(__always)
public func fastErf8(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = x0.clamped(lowerBound: SIMD8(repeating: -4), upperBound: SIMD8(repeating: 4))
    let x2 = x * x
    var p = SIMD8<Float>(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    p *= x
    var q = SIMD8<Float>(repeating: -1.45660718464996e-05)
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return p / q
}

/// e^x to about 2 ulp, branch-free (Cephes expf: Cody-Waite range reduction by ln 2, degree-6
/// polynomial, 2^n through the exponent bits), so loops over it vectorise; libm's expf is a call.
@inline(__always)
public func fastExp(_ x0: Float) -> Float {
    let x = min(max(x0, -87.33), 88.72)
    let n = (x * 1.44269504088896341 + 12_582_912) - 12_582_912   // round(x / ln 2)
    let r = x - n * 0.693359375 + n * 2.12194440e-4                 // x - n ln 2, in two parts
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3333519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    return p * Float(bitPattern: UInt32(bitPattern: Int32(n) &+ 127) << 23)
}

/// erf(x) to float precision as a rational polynomial in x² on [-4, 4] (|erf| rounds to 1 beyond):
/// only multiplies, adds and one divide, so loops over it vectorise, unlike libm's erff, which
/// took a third of a transformer block's GELU time. Coefficients: Eigen's generic_fast_erf_float.
@inline(__always)
public func fastErf(_ x0: Float) -> Float {
    let x = min(max(x0, -4), 4)
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    p *= x
    var q: Float = -1.45660718464996e-05
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return p / q
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
