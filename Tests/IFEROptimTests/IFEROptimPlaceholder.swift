import XCTest
@testable import IFEROptim

/// Replaced by this layer's real tests.
final class IFEROptimPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
