// Shared helpers for the IO tests: fixtures and the package root (temporary directories and h5py
// come from IFERTestSupport).
import Foundation
@_exported import IFERTestSupport
import XCTest

/// Tests/IFERIOTests/Fixtures.
let fixturesDir: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The package root (for an optional .venv-golden).
let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path


