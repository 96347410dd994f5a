import Foundation
import IFERTensor
import XCTest

/// Runs the built `ifer` binary, directly or under real `mpirun -np N`, and captures its output.
/// Shared by the test targets that launch the `ifer` binary (a library target under Tests/).
public enum IferProcess {
    public struct Output {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// Wall seconds from launch to exit (monotonic).
        public let seconds: Double
        public var all: String { stdout + "\n" + stderr }
    }

    /// `.build/<config>/ifer`, next to the test bundle.
    public static func executable() throws -> URL {
        var candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ifer"),
                          Bundle.main.bundleURL.appendingPathComponent("ifer")]
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("ifer")) }
        for config in ["debug", "release"] {
            candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/\(config)/ifer"))
        }
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("the ifer executable is not built next to the tests")
        }
        return url
    }

    public static func mpirun() throws -> String {
        for p in ["/usr/bin/mpirun", "/usr/local/bin/mpirun"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        throw XCTSkip("mpirun is not installed")
    }

    /// `ranks` 0: the binary alone (no MPI); otherwise under `mpirun -np ranks`, oversubscribed
    /// with yielding only when there are more ranks than cores. `env` adds to the environment.
    public static func run(ranks: Int, _ args: [String], timeout: Double = 120, env: [String: String] = [:]) throws -> Output {
        let exe = try executable()
        if ranks == 0 { return try launch(exe.path, args, timeout: timeout, env: env) }
        var a = ["-np", "\(ranks)"]
        if ranks > ProcessInfo.processInfo.activeProcessorCount { a += ["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"] }
        return try launch(try mpirun(), a + [exe.path] + args, timeout: timeout, env: env)
    }

    /// Runs a program with the Open MPI root variables set; drains both pipes to EOF before waiting
    /// (a full pipe would block the child); terminates it after `timeout` seconds.
    public static func launch(_ program: String, _ args: [String], timeout: Double = 120, env extra: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let start = MonotonicClock.now()
        try p.run()
        // Kill the launcher if it outlives the timeout, so a hang fails the test instead of the suite.
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let g = DispatchGroup()
        g.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        p.waitUntilExit()
        killer.cancel()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self), seconds: MonotonicClock.now() - start)
    }

    /// A Python with h5py, or nil (see `h5pyPython`).
    public static func pythonWithH5py() -> String? { h5pyPython }
}
