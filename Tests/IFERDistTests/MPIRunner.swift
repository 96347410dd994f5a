import Foundation
import XCTest

/// Launches the built `ifer` binary, alone or under real `mpirun`, and captures its output.
enum MPIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let seconds: Double
        var all: String { stdout + stderr }
    }

    /// The `ifer` executable next to the test bundle (.build/<config>/ifer).
    static func ifer() throws -> URL {
        var candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ifer"),
                          Bundle.main.bundleURL.appendingPathComponent("ifer")]
        for b in Bundle.allBundles {
            candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("ifer"))
        }
        for config in ["debug", "release"] {
            candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                .appendingPathComponent(".build/\(config)/ifer"))
        }
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("the ifer executable is not built next to the tests (looked in \(candidates.map(\.path)))")
        }
        return url
    }

    static func mpirun() throws -> String {
        for p in ["/usr/bin/mpirun", "/usr/local/bin/mpirun"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        throw XCTSkip("mpirun is not installed")
    }

    /// `ranks` 0 runs the binary directly (no MPI); otherwise under `mpirun -np ranks`, oversubscribed
    /// with yielding when there are more ranks than cores.
    static func run(ranks: Int, _ args: [String], timeout: Double = 30, env extra: [String: String] = [:]) throws -> Result {
        let exe = try ifer()
        let p = Process()
        if ranks == 0 {
            p.executableURL = exe
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: try mpirun())
            var a = ["-np", "\(ranks)"]
            if ranks > ProcessInfo.processInfo.activeProcessorCount {
                a += ["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]
            }
            p.arguments = a + [exe.path] + args
        }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let start = Date()
        try p.run()
        // Kill the launcher if it outlives the timeout, so a hang fails the test instead of the suite.
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        // Read both pipes to EOF (concurrently, so neither fills up) before waiting.
        final class Box: @unchecked Sendable { var data = Data() }
        let errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        killer.cancel()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self), seconds: Date().timeIntervalSince(start))
    }
}
