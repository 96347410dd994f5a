import XCTest
@testable import IFERLayers

final class ConvLayersTests: XCTestCase {
    func testConv2dShapesAndInit() {
        let c = Conv2d(4, 6, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual(c.weight.shape, [6, 4, 3, 3])
        XCTAssertEqual(c.outputSize(7), 4)
        XCTAssertEqual(c.macs(height: 7, width: 7), 16 * 6 * 36)
        let d = Conv2d(4, 4, kernel: 3, padding: 1, groups: 4, bias: false)
        XCTAssertEqual(d.weight.shape, [4, 1, 3, 3])
        XCTAssertEqual(d.namedParameters().map(\.0), ["weight"])
        var rng = Philox(seed: 2)
        c.resetParameters(&rng)
        XCTAssertTrue(c.weight.array.allSatisfy { abs($0) <= 1 / Float(36).squareRoot() })
    }
}
