import Foundation
import XCTest

/// A fresh, empty directory `<tmp>/ifer-<name>-<uuid>` (every test target uses this one helper).
/// Removed when `test` ends; with `test` nil (a fixture shared by several tests) it is kept.
public func makeTempDir(_ test: XCTestCase?, _ name: String = "test") throws -> String {
    let dir = NSTemporaryDirectory() + "ifer-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test?.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}
