import Foundation
import XCTest
@testable import IFERLayers

/// One layer case from scripts/reference/layers_golden.py.
private struct LayerCase: Decodable {
    struct Arr: Decodable { let shape: [Int]; let data: [Float] }
    let input: Arr, seed: Arr, output: Arr
    let input_grad: Arr
    let params: [String: Arr]
    let param_grads: [String: Arr]

    static let all: [String: LayerCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/layers.json")
        return (try? JSONDecoder().decode([String: LayerCase].self, from: Data(contentsOf: url))) ?? [:]
    }()
}

private func relErr(_ a: [Float], _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 1
    for (x, y) in zip(a, b) { num = max(num, abs(x - y)); den = max(den, abs(y)) }
    return a.count == b.count ? num / den : .infinity
}

final class LayersTests: XCTestCase {
    /// Loads the case's weights into `layer` by name, runs forward and backward, compares all.
    private func check(_ name: String, _ layer: Layer, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let c = LayerCase.all[name] else { return XCTFail("fixture \(name) missing", file: file, line: line) }
        let params = Dictionary(uniqueKeysWithValues: layer.namedParameters())
        XCTAssertEqual(Set(params.keys), Set(c.params.keys), "\(name): parameter names", file: file, line: line)
        for (k, v) in c.params {
            XCTAssertEqual(params[k]?.shape, v.shape, "\(name).\(k) shape", file: file, line: line)
            try params[k]?.assign(Tensor(v.data, shape: v.shape))
        }
        let x = try Tensor(c.input.data, shape: c.input.shape, requiresGrad: true)
        let y = try layer(x)
        XCTAssertEqual(y.shape, c.output.shape, file: file, line: line)
        XCTAssertLessThan(relErr(y.array, c.output.data), 1e-5, "\(name) forward", file: file, line: line)
        try y.backward(gradient: Tensor(c.seed.data, shape: c.seed.shape))
        XCTAssertLessThan(relErr(x.grad?.array ?? [], c.input_grad.data), 1e-4, "\(name) input grad", file: file, line: line)
        for (k, g) in c.param_grads {
            XCTAssertLessThan(relErr(params[k]?.grad?.array ?? [], g.data), 1e-4, "\(name).\(k) grad", file: file, line: line)
            params[k]?.grad = nil
        }
    }

    func testLinearMatchesTorch() throws {
        try check("linear", Linear(5, 4))
        try check("linear_nobias", Linear(5, 4, bias: false))
    }

    func testConv2dMatchesTorch() throws {
        try check("conv2d", Conv2d(4, 6, kernel: 3, stride: 2, padding: 1))
        try check("conv2d_depthwise", Conv2d(4, 4, kernel: 3, padding: 1, groups: 4))
        XCTAssertThrowsError(try Conv2d(4, 6, kernel: 3)(Tensor(zeros: [1, 3, 5, 5])))
    }

    func testPoolingLayers() throws {
        let x = try Tensor((0..<32).map(Float.init), shape: [1, 2, 4, 4])
        let m = try MaxPool2d(kernel: 2)(x)
        XCTAssertEqual(m.array, [5, 7, 13, 15, 21, 23, 29, 31])
        let a = try AdaptiveAvgPool2d(1, 1)(x)
        XCTAssertEqual(a.array, [7.5, 23.5])
    }

    func testLayerNormMatchesTorch() throws { try check("layernorm", LayerNorm(6)) }

    func testLinearRejectsWrongWidth() {
        XCTAssertThrowsError(try Linear(5, 4)(Tensor(zeros: [2, 6]))) { e in
            XCTAssertTrue("\(e)".contains("Linear(5, 4)"))
        }
    }

    func testInitSchemes() {
        var rng = Philox(seed: 1)
        let l = Linear(100, 50)
        l.resetParameters(&rng)
        let bound = 1 / Float(100).squareRoot()
        XCTAssertTrue(l.weight.array.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(l.bias!.array.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(l.weight.array.map(abs).max()!, bound * 0.9)
        let t = Linear(100, 50, init: .truncatedNormal(std: 0.02))
        t.resetParameters(&rng)
        let w = t.weight.array
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(t.bias!.array, [Float](repeating: 0, count: 50))
        let n = LayerNorm(8)
        n.resetParameters(&rng)
        XCTAssertEqual(n.weight.array, [Float](repeating: 1, count: 8))
    }

    func testSequentialIndexesEveryLayer() throws {
        let s = Sequential([Linear(3, 4), GELU(), Linear(4, 2), Identity()])
        XCTAssertEqual(s.namedParameters().map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias"])
        s.resetAll(seed: 3)
        let y = try s(Tensor(filled: 1, shape: [5, 3]))
        XCTAssertEqual(y.shape, [5, 2])
    }
}
