import XCTest
@testable import IFERTrain

/// Replaced by this layer's real tests.
final class IFERTrainPlaceholder: XCTestCase {
    func testModuleLoads() {}
}
