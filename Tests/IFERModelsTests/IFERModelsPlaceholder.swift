import XCTest
@testable import IFERModels

/// Replaced by this layer's real tests.
final class IFERModelsPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
