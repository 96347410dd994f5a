import XCTest
@testable import IFERModels

final class IferHeadTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    func testMatchesReference() throws {
        let fx = try Fixture("ifer_head")
        let h = IferHead(try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/ifer.yaml").path).iferHead)
        try fx.load(into: h)
        let codes = try fx.tensor("codes", requiresGrad: true), s = try fx.tensor("structure", requiresGrad: true)
        let logits = try h(codes: codes, structure: s)
        XCTAssertEqual(logits.shape, [2, 7])
        XCTAssertLessThan(relativeError(logits, try fx.tensor("output")), 1e-4)
        try logits.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(codes.grad, try fx.tensor("grad.codes")), 1e-4, "d codes")
        XCTAssertLessThan(relativeError(s.grad, try fx.tensor("grad.structure")), 1e-4, "d structure")
        for (k, p) in h.namedParameters() {
            XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + k)), 1e-4, "d \(k)")
        }
        XCTAssertThrowsError(try h(codes: Tensor(zeros: [2, 8, 16]), structure: s))
    }
}
