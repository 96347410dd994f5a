import XCTest
@testable import IFERModels

final class PerceptualTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    /// Every state_dict tensor of the reference (minus inputs, outputs and gradients) is one of ours.
    private func assertSameKeys(_ fx: Fixture, _ m: Module, inputs: Set<String>, file: StaticString = #filePath, line: UInt = #line) {
        let theirs = Set(fx.index.keys.filter { !$0.hasPrefix("grad.") && !inputs.contains($0) && $0 != "seed" && $0 != "output" })
        let ours = Set((m.namedParameters() + m.namedBuffers()).map(\.0))
        XCTAssertEqual(ours, theirs, file: file, line: line)
    }

    func testLPIPSMatchesReference() throws {
        let fx = try Fixture("lpips")
        let lp = LPIPS(widths: [8, 12, 16, 12, 12])
        assertSameKeys(fx, lp, inputs: ["x", "y"])
        try fx.load(into: lp)
        let x = try fx.tensor("x", requiresGrad: true), y = try fx.tensor("y")
        let d = try lp(x, y)
        XCTAssertEqual(d.shape, [])
        XCTAssertLessThan(relativeError(d, try fx.tensor("output")), 1e-4)
        try d.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(x.grad, try fx.tensor("grad.x")), 1e-4, "d x")
        for (k, p) in lp.namedParameters() { XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + k)), 1e-4, "d \(k)") }
    }

    func testIRSE50MatchesReference() throws {
        let fx = try Fixture("irse50")
        let net = IRSE50(inputSize: 32, units: [1, 2, 1, 1], widths: [8, 16, 16, 32], embedding: 16)
        assertSameKeys(fx, net, inputs: ["x"])
        try fx.load(into: net)
        let x = try fx.tensor("x", requiresGrad: true)
        let e = try net(x)
        XCTAssertEqual(e.shape, [2, 16])
        XCTAssertLessThan(relativeError(e, try fx.tensor("output")), 1e-4)
        try e.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(x.grad, try fx.tensor("grad.x")), 1e-4, "d x")
    }

    func testFullSizeLayouts() {
        // torchvision AlexNet features: 2,469,696 parameters; LPIPS v0.1 heads 64+192+384+256+256 = 1,152.
        let lp = LPIPS()
        XCTAssertEqual(lp.net.parameterCount, 2_469_696)
        XCTAssertEqual(lp.parameterCount - lp.net.parameterCount, 1_152)
        XCTAssertEqual(lp.namedParameters().map(\.0).filter { $0.hasPrefix("net.") },
                       ["net.layers.0.weight", "net.layers.0.bias", "net.layers.3.weight", "net.layers.3.bias", "net.layers.6.weight",
                        "net.layers.6.bias", "net.layers.8.weight", "net.layers.8.bias", "net.layers.10.weight", "net.layers.10.bias"])
        let ir = IRSE50()
        let shapes = Dictionary(uniqueKeysWithValues: (ir.namedParameters() + ir.namedBuffers()).map { ($0.0, $0.1.shape) })
        XCTAssertEqual(shapes["input_layer.0.weight"], [64, 3, 3, 3])
        XCTAssertEqual(shapes["body.0.shortcut_layer.0.weight"], nil, "64→64 keeps the width: a max-pool shortcut")
        XCTAssertEqual(shapes["body.3.shortcut_layer.0.weight"], [128, 64, 1, 1])
        XCTAssertEqual(shapes["body.23.res_layer.5.fc2.weight"], [512, 32, 1, 1])
        XCTAssertEqual(shapes["output_layer.3.weight"], [512, 512 * 7 * 7])
        XCTAssertEqual(shapes["output_layer.4.running_var"], [512])
        XCTAssertEqual(ir.body.layers.count, 24)
    }
}
