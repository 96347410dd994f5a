// `ifer bench checkpoint`: write/read throughput of a real checkpoint (many tensors, checksums,
// fsync, renames, sidecar hash) against a plain HDF5 write/read of one buffer of the same size
// (also fsynced), so the overhead of the crash-safe format is visible.
import CHDF5
import Foundation
import IFERTrain

public struct CheckpointBenchResult {
    public var label: String
    public var floats: Int
    public var tensors: Int
    public var bytes: Int
    /// Medians over the repeats, in seconds.
    public var checkpointWrite: Double
    public var checkpointRead: Double
    public var plainWrite: Double
    public var plainRead: Double
    /// Reads after the file's pages were dropped from the page cache (what a new process reading
    /// a checkpoint written long ago sees): the disk's speed, not memory's.
    public var checkpointReadCold: Double
    public var plainReadCold: Double
    /// One SHA-256 pass over the checkpoint file from the page cache, nothing else: the least
    /// any verified read can take (the sidecar check alone).
    public var sha256Pass: Double

    private func mbps(_ seconds: Double) -> Double { Double(bytes) / 1e6 / max(seconds, 1e-9) }
    public var checkpointWriteMBps: Double { mbps(checkpointWrite) }
    public var checkpointReadMBps: Double { mbps(checkpointRead) }
    public var plainWriteMBps: Double { mbps(plainWrite) }
    public var plainReadMBps: Double { mbps(plainRead) }
    public var checkpointReadColdMBps: Double { mbps(checkpointReadCold) }
    public var plainReadColdMBps: Double { mbps(plainReadCold) }
}

public enum CheckpointBench {
    /// Parameters shaped like a transformer's: [512, 512] weights and [512] biases, then a remainder.
    public static func makeParams(floats: Int, seed: UInt64 = 1) -> [(key: String, tensor: Tensor)] {
        var out: [(key: String, tensor: Tensor)] = []
        var left = floats
        var rng = Philox(seed: seed)
        var block = 0
        func add(_ key: String, _ shape: [Int]) {
            let t = Tensor(zeros: shape)
            t.fillUniform(&rng, low: -1, high: 1)
            out.append((key, t))
            left -= t.count
        }
        while left > 0 {
            if left >= 512 * 512 + 512 {
                add("blocks.\(block).weight", [512, 512])
                add("blocks.\(block).bias", [512])
            } else {
                add("blocks.\(block).rest", [left])
            }
            block += 1
        }
        return out
    }

    /// The tiny size (1.7 M floats) and with `paper` the paper size (300 M floats), one JSON line
    /// each; scratch files go under `dir` (default: a fresh folder in the temporary directory,
    /// removed afterwards).
    public static func run(paper: Bool, dir: String?, repeats: Int) throws {
        var sizes: [(String, Int)] = [("tiny", 1_700_000)]
        if paper { sizes.append(("paper", 300_000_000)) }
        let base = dir ?? NSTemporaryDirectory() + "ifer-bench-checkpoint-\(getpid())"
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: base) } }
        for (label, floats) in sizes {
            let r = try measure(label: label, floats: floats, dir: base + "/" + label, repeats: repeats)
            emitJSON(["bench": "checkpoint", "size": r.label, "floats": r.floats, "tensors": r.tensors, "mb": Double(r.bytes) / 1e6,
                      "ckpt_write_mb_s": r.checkpointWriteMBps, "ckpt_read_mb_s": r.checkpointReadMBps,
                      "h5_write_mb_s": r.plainWriteMBps, "h5_read_mb_s": r.plainReadMBps,
                      "ckpt_read_cold_mb_s": r.checkpointReadColdMBps, "h5_read_cold_mb_s": r.plainReadColdMBps,
                      "write_ratio": r.plainWrite / r.checkpointWrite, "read_ratio": r.plainRead / r.checkpointRead,
                      "read_cold_ratio": r.plainReadCold / r.checkpointReadCold,
                      "sha256_pass_s": r.sha256Pass, "plain_read_s": r.plainRead,
                      "ckpt_write_s": r.checkpointWrite, "ckpt_read_s": r.checkpointRead, "ckpt_read_cold_s": r.checkpointReadCold,
                      "repeats": repeats])
        }
    }

    /// Drops a file's (clean, fsynced) pages from the page cache, so the next read comes from disk.
    static func dropFromPageCache(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd < 0 { return }
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        #endif
        close(fd)
    }

    /// The plain read: libhdf5's own open and H5Dread of the one dataset (its default sec2
    /// driver), with nothing of ours around it (no guard scan, no hash).
    static func plainRead(_ path: String, into t: Tensor) throws {
        let f = H5Fopen(path, ch5_f_acc_rdonly(), ch5_p_default())
        if f < 0 { throw IOError(path: path, "bench: libhdf5 cannot open the plain file") }
        defer { H5Fclose(f) }
        let d = H5Dopen2(f, "/all", ch5_p_default())
        if d < 0 { throw IOError(path: path, key: "/all", "bench: libhdf5 cannot open the dataset") }
        defer { H5Dclose(d) }
        if H5Dread(d, ch5_native_float(), ch5_s_all(), ch5_s_all(), ch5_p_default(), t.ptr) < 0 {
            throw IOError(path: path, key: "/all", "bench: libhdf5 read failed")
        }
    }

    /// Runs `repeats` rounds of each measurement in `dir` (removed afterwards).
    public static func measure(label: String, floats: Int, dir: String, repeats: Int = 3) throws -> CheckpointBenchResult {
        guard floats > 0, repeats > 0 else {
            throw CheckpointError(.io, path: dir, "bench: need a positive size and repeat count (got \(floats) floats, \(repeats) repeats)")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let params = makeParams(floats: floats)
        let targets = params.map { (key: $0.key, tensor: Tensor(zeros: $0.tensor.shape)) }
        let runDir = (dir as NSString).appendingPathComponent("run")
        var cw: [Double] = [], cr: [Double] = [], pw: [Double] = [], pr: [Double] = [], crc: [Double] = [], prc: [Double] = [], sha: [Double] = []
        for rep in 0..<repeats {
            let state = CheckpointState(stage: "bench", step: rep, epoch: 0, worldSize: 1, config: "bench: \(label)\n",
                                        params: params, ranks: [RankState(rng: [1, 2, 3, 0], cursor: [0, 0])])
            var t0 = MonotonicClock.now()
            let path = try CheckpointWriter.save(state, runDir: runDir, keep: 1)
            cw.append(MonotonicClock.now() - t0)
            for cold in [false, true] {
                if cold { dropFromPageCache(path) }
                t0 = MonotonicClock.now()
                let reader = try CheckpointReader(path: path)
                try reader.loadInto(params: targets)
                reader.close()
                if cold { crc.append(MonotonicClock.now() - t0) } else { cr.append(MonotonicClock.now() - t0) }
            }
            t0 = MonotonicClock.now()
            _ = try SHA256.hexHash(file: path)
            sha.append(MonotonicClock.now() - t0)

            let plain = (dir as NSString).appendingPathComponent("plain.h5")
            let all = Tensor(zeros: [floats])
            var off = 0
            for p in params { (all.ptr + off).update(from: p.tensor.ptr, count: p.tensor.count); off += p.tensor.count }
            t0 = MonotonicClock.now()
            do {
                let f = try H5File(path: plain, mode: .create)
                try f.createDataset("/all", of: Float.self, shape: [floats]).write(UnsafeBufferPointer(all.buffer))
                f.close()
            }
            try Durable.fsync(path: plain)
            pw.append(MonotonicClock.now() - t0)
            for cold in [false, true] {
                if cold { dropFromPageCache(plain) }
                t0 = MonotonicClock.now()
                try plainRead(plain, into: all)
                if cold { prc.append(MonotonicClock.now() - t0) } else { pr.append(MonotonicClock.now() - t0) }
            }
            try? FileManager.default.removeItem(atPath: plain)
        }
        // The loaded values must equal what was written: a benchmark of a broken reader is worthless.
        for (p, t) in zip(params, targets) where p.tensor.array != t.tensor.array {
            throw CheckpointError(.corrupt, path: runDir, "bench: \(p.key) read back differently")
        }
        return CheckpointBenchResult(label: label, floats: floats, tensors: params.count, bytes: floats * 4,
                                     checkpointWrite: median(cw), checkpointRead: median(cr),
                                     plainWrite: median(pw), plainRead: median(pr),
                                     checkpointReadCold: median(crc), plainReadCold: median(prc), sha256Pass: median(sha))
    }
}
