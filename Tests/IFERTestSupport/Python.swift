import Foundation

/// Runs `python -c script args...`; returns (exit code, stdout + stderr).
public func runPython(_ python: String, _ script: String, _ args: [String] = []) throws -> (Int32, String) {
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

/// A Python that can `import h5py` ($IFER_PYTHON, <repo>/.venv-golden, python3), or nil so that
/// the h5py layout checks skip cleanly on machines without it (CI never needs torch or h5py).
public let h5pyPython: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["IFER_PYTHON"], !env.isEmpty { candidates.append(env) }
    candidates.append(root + "/.venv-golden/bin/python")
    // python3 as an absolute path from $PATH, so callers may launch it directly.
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        candidates.append(String(dir) + "/python3")
    }
    for c in candidates {
        if !FileManager.default.isExecutableFile(atPath: c) { continue }
        if let (rc, _) = try? runPython(c, "import h5py"), rc == 0 { return c }
    }
    return nil
}()
