// Shared helpers for the IO tests: temporary directories, fixtures and an optional h5py.
import Foundation
@_exported import IFERTestSupport
import XCTest

/// A fresh temporary directory, removed when the test case ends.
func makeTempDir(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "iferio-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

/// Tests/IFERIOTests/Fixtures.
let fixturesDir: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The package root (for an optional .venv-golden).
let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path


