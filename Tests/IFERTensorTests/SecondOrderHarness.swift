import Foundation
import XCTest
@testable import IFERTensor

/// One second-order golden case, as written by scripts/golden/second_order.py: a first-order
/// case (OpHarness.swift's arrays) plus probe vectors and Hessian-vector products.
struct SecondOrderCase: Decodable {
    typealias Arr = GoldenCase.Arr
    typealias Input = GoldenCase.Input
    let name: String
    let inputs: [Input]
    let seed: Arr
    let output: Arr
    let grads: [Arr?]
    let vectors: [Arr?]
    let hvps: [Arr?]

    static func load(_ name: String) throws -> SecondOrderCase {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/second_order/\(name).json")
        return try JSONDecoder().decode(SecondOrderCase.self, from: Data(contentsOf: url))
    }
}

/// Checks one op's second derivatives four ways. With s the fixture's seed and v_i its vectors:
///   1. g = Autograd.grad(f, x, seeds: [s], createGraph: true) matches PyTorch's first gradient;
///   2. h = Autograd.grad(Σ_i <g_i, v_i>, x) (a Hessian-vector product) matches PyTorch's
///      torch.autograd.grad(..., create_graph=True) HVP;
///   3. the same HVP by the fast path: backward() of Σ_i <g_i, v_i> through the recorded backward;
///   4. h against central finite differences of the first gradient (the fast backward) along x.
/// `fdStep` is relative to the value (at least 1e-3 absolute); bilinear ops take larger steps.
func checkSecondOrder(_ name: String, tol: Float = 1e-4, fdTol: Float = 3e-2, fdStep: Float = 1e-3,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: @escaping ([Tensor]) throws -> Tensor) {
    defer { Autograd.reset() }
    do {
        let gc = try SecondOrderCase.load(name)
        let xs = try gc.inputs.map { i -> Tensor in try Tensor(i.data, shape: i.shape, requiresGrad: i.grad) }
        let wanted = gc.inputs.indices.filter { gc.inputs[$0].grad }
        let seed = try Tensor(gc.seed.data, shape: gc.seed.shape)
        let vs = try wanted.map { i -> Tensor in
            guard let v = gc.vectors[i] else { throw TensorError.badArgument(op: name, detail: "no vector for input \(i)") }
            return try Tensor(v.data, shape: v.shape)
        }

        // <g, v> summed over the inputs, built from a createGraph gradient.
        func secondOrderLoss() throws -> (out: Tensor, grads: [Tensor], loss: Tensor) {
            let out = try f(xs)
            let gs = try Autograd.grad(of: [out], wrt: wanted.map { xs[$0] }, seeds: [seed], createGraph: true)
            var loss = Tensor(scalar: 0)
            for (g, v) in zip(gs, vs) { loss = try add(loss, sumAll(try mul(g, v))) }
            return (out, gs, loss)
        }

        let (out, gs, loss) = try secondOrderLoss()
        XCTAssertEqual(out.shape, gc.output.shape, "\(name): output shape", file: file, line: line)
        XCTAssertLessThan(relError(out.array, gc.output.data), tol, "\(name): forward differs from PyTorch", file: file, line: line)
        for (k, i) in wanted.enumerated() {
            XCTAssertLessThan(relError(gs[k].array, gc.grads[i]!.data), tol * 10,
                              "\(name): createGraph gradient of input \(i) differs from PyTorch", file: file, line: line)
        }
        let hs = try Autograd.grad(of: [loss], wrt: wanted.map { xs[$0] })
        for (k, i) in wanted.enumerated() {
            XCTAssertLessThan(relError(hs[k].array, gc.hvps[i]!.data), tol * 10,
                              "\(name): Hessian-vector product for input \(i) differs from PyTorch", file: file, line: line)
        }
        if loss.requiresGrad {
            try loss.backward()
            for (k, i) in wanted.enumerated() {
                let ours = xs[i].grad?.array ?? [Float](repeating: 0, count: xs[i].count)
                XCTAssertLessThan(relError(ours, hs[k].array), tol * 10,
                                  "\(name): backward() of the penalty differs from grad() for input \(i)", file: file, line: line)
            }
        }
        Autograd.reset()
        try hvpFiniteDifferences(name, xs, wanted, seed, vs, hs, f, fdTol, fdStep, file, line)
    } catch {
        XCTFail("\(name): \(error)", file: file, line: line)
    }
}

/// h_j ≈ (<G(x + ε e_j), v> − <G(x − ε e_j), v>) / 2ε, G the first gradient by the fast backward.
private func hvpFiniteDifferences(_ name: String, _ xs: [Tensor], _ wanted: [Int], _ seed: Tensor, _ vs: [Tensor],
                                  _ hs: [Tensor], _ f: ([Tensor]) throws -> Tensor, _ tol: Float, _ step: Float,
                                  _ file: StaticString, _ line: UInt) throws {
    func gradDotV() throws -> Double {
        for x in xs { x.grad = nil }
        try f(xs).backward(gradient: seed)
        var s = 0.0
        for (k, i) in wanted.enumerated() {
            guard let g = xs[i].grad else { continue }
            for j in 0..<g.count { s += Double(g.ptr[j]) * Double(vs[k].ptr[j]) }
        }
        return s
    }
    var rng = Philox(seed: 78)
    for (k, i) in wanted.enumerated() {
        let x = xs[i]
        let probes = x.count <= 10 ? Array(0..<x.count) : (0..<10).map { _ in rng.int(below: x.count) }
        for j in probes {
            let v = x.ptr[j]
            let eps = max(step, abs(v) * step)
            x.ptr[j] = v + eps; let lp = try gradDotV()
            x.ptr[j] = v - eps; let lm = try gradDotV()
            x.ptr[j] = v
            let numeric = Float((lp - lm) / Double(2 * eps))
            let analytic = hs[k].ptr[j]
            XCTAssertLessThanOrEqual(abs(numeric - analytic), tol * max(1, abs(analytic)),
                "\(name): input \(i)[\(j)] finite difference of the gradient \(numeric) vs HVP \(analytic)", file: file, line: line)
        }
    }
    for x in xs { x.grad = nil }
}
