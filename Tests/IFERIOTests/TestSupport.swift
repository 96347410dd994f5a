// Shared helpers for the IO tests: temporary directories, fixtures and an optional h5py.
import Foundation
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

/// Runs `python -c script args...`; returns (exit code, stdout+stderr).
func runPython(_ python: String, _ script: String, _ args: [String] = []) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [python, "-c", script] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A Python interpreter that can `import h5py`: $IFER_PYTHON, the repo's .venv-golden, then python3.
/// Nil when none works, so the calling test skips.
let h5pyPython: String? = {
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["IFER_PYTHON"], !env.isEmpty { candidates.append(env) }
    candidates.append(packageRoot + "/.venv-golden/bin/python")
    candidates.append("python3")
    for c in candidates {
        if c.hasPrefix("/") && !FileManager.default.isExecutableFile(atPath: c) { continue }
        if let (rc, _) = try? runPython(c, "import h5py"), rc == 0 { return c }
    }
    return nil
}()
