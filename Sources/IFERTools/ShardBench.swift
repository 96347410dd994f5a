import Foundation
import IFERTrain

/// `mpirun -np N ifer bench shard`: images/s of the sharding coordinator (decode PNG, resample
/// with anti-aliasing, write HDF5, checksum) from 1024 px PNGs to 256 px shards, and with a
/// Python the same job done by scripts/bench/shard_pillow.py (Pillow + h5py, one process) on the
/// same files, compared per core.
public enum ShardBench {
    public struct Options {
        /// Source folder of images (default: generate `images` PNGs of `sourceResolution` px).
        public var root: String?
        public var images = 48
        public var sourceResolution = 1024
        /// Shard resolution.
        public var resolution = 256
        /// Scratch directory (kept; generated sources are reused by later runs).
        public var dir: String?
        /// A Python with Pillow and h5py: also run `pillowScript` on the same files.
        public var pillow: String?
        public var pillowScript = "scripts/bench/shard_pillow.py"
        public init() {}
    }

    public struct BenchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every rank runs this; rank 0 prints the JSON lines.
    public static func run(_ comm: Communicator, _ o: Options) throws {
        let base = o.dir ?? NSTemporaryDirectory() + "ifer-bench-shard"
        let src = o.root ?? base + "/src\(o.sourceResolution)"
        if o.root == nil {
            // Every rank renders a share of the sources (PNG encoding at 1024 px is slow).
            try BenchImages.write(count: o.images, side: o.sourceResolution, to: src, first: comm.rank, every: comm.worldSize)
        }
        let out = base + "/out-np\(comm.worldSize)"
        if comm.isRoot { try? FileManager.default.removeItem(atPath: out) }
        try comm.barrier()
        // Four shards per rank so the work splits evenly.
        let n = try scanDataset(.folder, root: src).items.count
        let perShard = max(1, n / (4 * comm.worldSize))
        let mb = Double(perShard * o.resolution * o.resolution * 3) / 1_048_576 + 1e-6
        let c0 = cpuSeconds()
        let t0 = MonotonicClock.now()
        let s = try ShardCoordinator.run(ShardOptions(dataset: .folder, root: src, out: out, resolution: o.resolution, shardSizeMB: mb), comm: comm)
        let dt = MonotonicClock.now() - t0
        let cpu = cpuSeconds() - c0
        // Images and CPU microseconds of every rank.
        let counts = try comm.allGather([Int64(s.images), Int64(cpu * 1e6)])
        guard comm.isRoot else { return }
        let total = Int(stride(from: 0, to: counts.count, by: 2).reduce(0) { $0 + counts[$1] })
        let cpuAll = Double(stride(from: 1, to: counts.count, by: 2).reduce(0) { $0 + counts[$1] }) / 1e6
        let ips = Double(total) / dt
        // On a shared machine wall time includes other people's load; images per CPU-second
        // (user + system time of all ranks) is the per-core rate that load does not distort.
        emitJSON(["bench": "shard", "tool": "ifer", "ranks": comm.worldSize, "images": total, "source_px": o.sourceResolution,
                  "resolution": o.resolution, "seconds": dt, "images_per_s": ips, "images_per_s_per_core": ips / Double(comm.worldSize),
                  "cpu_seconds": cpuAll, "images_per_cpu_s": Double(total) / cpuAll])
        guard let python = o.pillow else { return }
        let r = try runPillow(python: python, script: o.pillowScript, src: src, out: base + "/out-pillow", resolution: o.resolution)
        guard let data = r.data(using: .utf8), let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let pips = j["images_per_s"] as? Double, let pn = j["images"] as? Int else {
            throw BenchError(description: "\(o.pillowScript) printed no JSON result: \(r)")
        }
        let pcpu = j["cpu_seconds"] as? Double ?? 0
        emitJSON(["bench": "shard", "tool": "pillow+h5py", "ranks": 1, "images": pn, "source_px": o.sourceResolution,
                  "resolution": o.resolution, "seconds": j["seconds"] as? Double ?? 0, "images_per_s": pips, "images_per_s_per_core": pips,
                  "cpu_seconds": pcpu, "images_per_cpu_s": Double(pn) / max(pcpu, 1e-9)])
        emitJSON(["bench": "shard", "tool": "compare", "ifer_per_core": ips / Double(comm.worldSize), "pillow_per_core": pips,
                  "speedup_per_core": ips / Double(comm.worldSize) / pips,
                  "ifer_per_cpu_s": Double(total) / cpuAll, "pillow_per_cpu_s": Double(pn) / max(pcpu, 1e-9),
                  "speedup_per_cpu_s": (Double(total) / cpuAll) / (Double(pn) / max(pcpu, 1e-9))])
    }

    /// User + system CPU seconds of this process so far.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
    }

    /// Runs the Pillow script; returns the last line it printed.
    static func runPillow(python: String, script: String, src: String, out: String, resolution: Int) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, "--root", src, "--out", out, "--resolution", "\(resolution)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError(description: "\(script) (run by \(python)) failed with status \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
    }
}
