import Foundation
import XCTest
@testable import IFERTensor

/// One golden case, as written by scripts/golden/common.py.
struct GoldenCase: Decodable {
    struct Arr: Decodable { let shape: [Int]; let data: [Float] }
    struct Input: Decodable { let shape: [Int]; let data: [Float]; let grad: Bool }
    let name: String
    let inputs: [Input]
    let seed: Arr
    let output: Arr
    let grads: [Arr?]

    static func load(_ name: String) throws -> GoldenCase {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ops/\(name).json")
        return try JSONDecoder().decode(GoldenCase.self, from: Data(contentsOf: url))
    }
}

/// Largest |a - b| relative to the largest |b| (at least 1).
func relError(_ a: [Float], _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 1
    for (x, y) in zip(a, b) { num = max(num, abs(x - y)); den = max(den, abs(y)) }
    return num / den
}

/// Checks one op three ways, tinygrad-style: forward against PyTorch, backward against PyTorch's
/// gradients, and backward against central finite differences of L = sum(f(x) * seed).
/// `f` receives fresh input tensors (those marked `grad` in the fixture require gradients).
///
/// `fdStep` is the finite-difference step relative to the value (at least 1e-3 absolute); ops that
/// are linear in each input (convolutions) may take large steps, which divide the float32
/// rounding noise of the forward by more without adding truncation error.
func checkOp(_ name: String, tol: Float = 1e-4, fd: Bool = true, fdTol: Float = 3e-2, fdStep: Float = 1e-3,
             file: StaticString = #filePath, line: UInt = #line,
             _ f: @escaping ([Tensor]) throws -> Tensor) {
    do {
        let gc = try GoldenCase.load(name)
        let xs = try gc.inputs.map { i -> Tensor in try Tensor(i.data, shape: i.shape, requiresGrad: i.grad) }
        let out = try f(xs)
        XCTAssertEqual(out.shape, gc.output.shape, "\(name): output shape", file: file, line: line)
        let fe = relError(out.array, gc.output.data)
        XCTAssertLessThan(fe, tol, "\(name): forward differs from PyTorch", file: file, line: line)
        guard gc.grads.contains(where: { $0 != nil }) else { Autograd.reset(); return }
        try out.backward(gradient: try Tensor(gc.seed.data, shape: gc.seed.shape))
        for (i, g) in gc.grads.enumerated() {
            guard let g else { continue }
            let ours = xs[i].grad?.array ?? [Float](repeating: 0, count: xs[i].count)
            let be = relError(ours, g.data)
            XCTAssertLessThan(be, tol * 10, "\(name): gradient of input \(i) differs from PyTorch", file: file, line: line)
        }
        if fd { try finiteDifferences(name, gc, xs, f, fdTol, fdStep, file, line) }
    } catch {
        XCTFail("\(name): \(error)", file: file, line: line)
    }
}

private func finiteDifferences(_ name: String, _ gc: GoldenCase, _ xs: [Tensor], _ f: ([Tensor]) throws -> Tensor,
                               _ tol: Float, _ step: Float, _ file: StaticString, _ line: UInt) throws {
    let seed = gc.seed.data
    func loss() throws -> Double {
        let y = try Autograd.noGrad { try f(xs) }
        var s = 0.0
        for i in 0..<y.count { s += Double(y.ptr[i]) * Double(seed[i]) }
        return s
    }
    var rng = Philox(seed: 77)
    for (i, x) in xs.enumerated() where gc.inputs[i].grad {
        guard let analytic = x.grad?.array else { continue }
        let probes = x.count <= 12 ? Array(0..<x.count) : (0..<12).map { _ in rng.int(below: x.count) }
        for j in probes {
            let v = x.ptr[j]
            let eps = max(step, abs(v) * step)
            x.ptr[j] = v + eps; let lp = try loss()
            x.ptr[j] = v - eps; let lm = try loss()
            x.ptr[j] = v
            let numeric = Float((lp - lm) / Double(2 * eps))
            let err = abs(numeric - analytic[j])
            XCTAssertLessThanOrEqual(err, tol * max(1, abs(analytic[j])),
                "\(name): input \(i)[\(j)] finite difference \(numeric) vs backward \(analytic[j])", file: file, line: line)
        }
    }
}
