import XCTest
@testable import IFERDist

/// Replaced by this layer's real tests.
final class IFERDistPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
