import XCTest
@testable import IFERModels

/// Backward of the composite StyleGAN2 layers against central finite differences of
/// L = Σ f(x)·seed (complementing the PyTorch goldens).
final class FiniteDifferenceTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    private func checkFD(_ inputs: [Tensor], tol: Float = 2e-2, _ f: () throws -> Tensor) throws {
        let out = try f()
        var rng = Philox(seed: 5)
        let seed = Tensor.randn(out.shape, &rng)
        try out.backward(gradient: seed)
        func loss() throws -> Double {
            let y = try Autograd.noGrad { try f() }
            return (0..<y.count).reduce(0.0) { $0 + Double(y.ptr[$1]) * Double(seed.ptr[$1]) }
        }
        for (n, x) in inputs.enumerated() {
            guard let g = x.grad?.array else { XCTFail("input \(n) got no gradient"); continue }
            for _ in 0..<6 {
                let j = rng.int(below: x.count)
                let v = x.ptr[j], eps: Float = 1e-2
                x.ptr[j] = v + eps; let lp = try loss()
                x.ptr[j] = v - eps; let lm = try loss()
                x.ptr[j] = v
                let numeric = Float((lp - lm) / Double(2 * eps))
                XCTAssertEqual(numeric, g[j], accuracy: tol * max(1, abs(g[j])), "input \(n)[\(j)]")
            }
        }
    }

    func testUpsamplingModulatedConv() throws {
        let m = ModulatedConv2d(4, 3, kernel: 3, styleDim: 5, demodulate: true, upsample: true)
        m.resetAll(seed: 1)
        var rng = Philox(seed: 2)
        let x = Tensor.randn([2, 4, 4, 4], &rng), s = Tensor.randn([2, 5], &rng)
        x.requiresGrad = true; s.requiresGrad = true
        try checkFD([x, s, m.weight, m.modulation.weight]) { try m(x, style: s) }
    }

    func testStyledConvAndToRGBSkip() throws {
        let c = StyledConv(3, 4, kernel: 3, styleDim: 5)
        let rgb = ToRGB(4, styleDim: 5)
        c.resetAll(seed: 3); rgb.resetAll(seed: 4)
        var rng = Philox(seed: 6)
        c.noise.weight.fill(0.3)
        let x = Tensor.randn([2, 3, 4, 4], &rng), s = Tensor.randn([2, 5], &rng)
        let skip = Tensor.randn([2, 3, 2, 2], &rng), noise = Tensor.randn([2, 1, 4, 4], &rng)
        for t in [x, s, skip] { t.requiresGrad = true }
        try checkFD([x, s, skip, c.noise.weight, c.activate.bias]) {
            try rgb(try c(x, style: s, noise: noise), style: s, skip: skip)
        }
    }

    func testMinibatchStddev() throws {
        let d = StyleGANDiscriminator(DiscriminatorConfig(kind: "stylegan2", size: 8, channelMax: 4))
        d.resetAll(seed: 7)
        var rng = Philox(seed: 8)
        let x = Tensor.randn([4, 3, 8, 8], &rng)
        x.requiresGrad = true
        try checkFD([x]) { try d(x) }
    }
}
