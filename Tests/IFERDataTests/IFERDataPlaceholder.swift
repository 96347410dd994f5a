import XCTest
@testable import IFERData

/// Replaced by this layer's real tests.
final class IFERDataPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
