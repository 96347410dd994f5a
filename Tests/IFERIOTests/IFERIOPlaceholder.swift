import XCTest
@testable import IFERIO

/// Replaced by this layer's real tests.
final class IFERIOPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
