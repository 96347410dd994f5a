import XCTest
@testable import IFERLayers

private final class Leaf: Module {
    let weight = parameter([2, 3])
    let avg = buffer([3])
    var parameters: [(String, Tensor)] { [("weight", weight)] }
    var buffers: [(String, Tensor)] { [("avg", avg)] }
    func resetParameters(_ rng: inout Philox) { weight.fillNormal(&rng) }
}

private final class Tree: Module {
    let a = Leaf(), list = ModuleList([Leaf(), Leaf()])
    var children: [(String, Module)] { [("a", a), ("blocks", list)] }
}

final class ModuleTests: XCTestCase {
    func testNamesAreDottedStateDictKeys() {
        let t = Tree()
        XCTAssertEqual(t.namedParameters().map(\.0), ["a.weight", "blocks.0.weight", "blocks.1.weight"])
        XCTAssertEqual(t.namedBuffers(prefix: "encoder.").map(\.0), ["encoder.a.avg", "encoder.blocks.0.avg", "encoder.blocks.1.avg"])
        XCTAssertEqual(t.parameterCount, 18)
    }

    func testResetIsDeterministicPerPath() {
        let t1 = Tree(), t2 = Tree()
        t1.resetAll(seed: 5); t2.resetAll(seed: 5)
        XCTAssertEqual(t1.list.items.count, 2)
        XCTAssertEqual((t1.namedParameters()[1].1).array, (t2.namedParameters()[1].1).array)
        XCTAssertNotEqual((t1.namedParameters()[1].1).array, (t1.namedParameters()[2].1).array)
    }
}
