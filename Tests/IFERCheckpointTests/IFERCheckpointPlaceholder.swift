import XCTest
@testable import IFERCheckpoint

/// Replaced by this layer's real tests.
final class IFERCheckpointPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
