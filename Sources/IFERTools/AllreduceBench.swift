import Foundation
import IFERTrain

/// `ifer bench allreduce`: the data-parallel gradient path (bucketed, on the communication thread)
/// against one raw MPI_Allreduce of the same buffer, beside the ring all-reduce lower bound
/// 2(n-1)/n x bytes / bandwidth, with the bandwidth measured by memcpy in the same run.
public enum AllreduceBench {
    public struct Case {
        public let name: String
        public let floats: Int
    }

    public struct Row {
        public let name: String
        public let bytes: Int
        public let ranks: Int
        public let buckets: Int
        public let reps: Int
        public let oursMs: Double
        public let mpiMs: Double
        public let memcpyGBps: Double
        public let boundMs: Double

        /// One JSON line on stdout.
        public func emit() {
            emitJSON(["bench": "allreduce", "name": name, "bytes": bytes, "ranks": ranks, "buckets": buckets, "reps": reps,
                      "ours_ms": oursMs, "mpi_ms": mpiMs, "memcpy_gbps": memcpyGBps, "bound_ms": boundMs,
                      "ours_busbw_gbps": busBandwidth(oursMs), "mpi_busbw_gbps": busBandwidth(mpiMs)])
        }

        /// One line of the text table (see `tableHeader`).
        public var tableLine: String {
            String(format: "%-8@ %12d %10.3f %9.3f %10.3f %12.2f", name as NSString, bytes, oursMs, mpiMs, boundMs, memcpyGBps)
        }

        /// nccl-tests' bus bandwidth: bytes/t x 2(n-1)/n, comparable with a link's bandwidth.
        func busBandwidth(_ ms: Double) -> Double {
            ranks > 1 && ms > 0 ? Double(bytes) / (ms * 1e-3) * 2 * Double(ranks - 1) / Double(ranks) / 1e9 : 0
        }
    }

    public static let tableHeader = "case         bytes      ours_ms    mpi_ms   bound_ms  memcpy_GB/s"

    /// The model configurations whose gradient sizes are cases: what one data-parallel step of the
    /// IFER classifier stage all-reduces (encoder + IFER head parameters), counted by the model
    /// inventory from the config file under the configs folder.
    public static let modelConfigs = [("micro", "micro/ifer.yaml"), ("tiny", "tiny/ifer.yaml"), ("paper", "paper/ifer-rafdb.yaml")]

    /// Buffers of 4 KB to 64 MB, then the gradient sizes of the micro, tiny (and with `paper`, the
    /// paper) configurations. Only the configs of cases in `only` (all when empty) are read.
    public static func cases(paper: Bool, configs: String = "configs", only: [String] = []) throws -> [Case] {
        func wanted(_ name: String) -> Bool { only.isEmpty || only.contains(name) }
        var c = stride(from: 12, through: 26, by: 2).map { Case(name: sizeName(1 << $0), floats: (1 << $0) / 4) }.filter { wanted($0.name) }
        for (name, file) in modelConfigs where wanted(name) && (paper || name != "paper") {
            c.append(Case(name: name, floats: try gradientFloats(configFile: (configs as NSString).appendingPathComponent(file))))
        }
        return c
    }

    /// The networks the IFER classifier stage trains (and so all-reduces the gradients of); its
    /// configs also describe the generator, which that stage does not use.
    public static let classifierNetworks: Set<String> = ["encoder", "ifer_head"]

    /// Parameters of the classifier's networks in a config (the inventory builds the networks
    /// without drawing weights).
    public static func gradientFloats(configFile: String) throws -> Int {
        let model = try ModelConfig(file: configFile)
        let nets = try ModelInventory.networks(model)
        return nets.filter { classifierNetworks.contains($0.name) }.reduce(0) { $0 + $1.parameters }
    }

    static func sizeName(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20)MB" : "\(bytes >> 10)KB"
    }

    /// Parameter-like tensors adding up to `floats`: weight matrices of up to 64K floats, each
    /// followed by a small bias, the mix a transformer's gradient buffer has.
    static func tensors(floats: Int) -> [Tensor] {
        var out: [Tensor] = []
        var left = floats
        while left > 0 {
            let w = min(left, 65_536)
            out.append(Tensor(zeros: [w]))
            left -= w
            if left > 0 {
                let b = min(left, 256)
                out.append(Tensor(zeros: [b]))
                left -= b
            }
        }
        for (i, t) in out.enumerated() { t.kind = .parameter; t.requiresGrad = true; t.name = "t\(i)" }
        return out
    }

    /// Repetitions: enough for a stable median, within a few seconds for the large sizes.
    static func reps(bytes: Int, requested: Int?) -> Int {
        if let r = requested { return max(1, r) }
        switch bytes {
        case ..<(1 << 20): return 200
        case ..<(16 << 20): return 40
        case ..<(256 << 20): return 10
        default: return 3
        }
    }

    /// Every rank runs this; rows are returned on every rank (rank 0 prints them).
    public static func run(_ comm: Communicator, paper: Bool, bucketBytes: Int, reps requested: Int?,
                           only: [String] = [], configs: String = "configs", emit: (Row) -> Void) throws {
        for c in try cases(paper: paper, configs: configs, only: only) {
            let ts = tensors(floats: c.floats)
            let flat = FlatBuffer(ts, withGradients: true)
            let dp = try DataParallel(flat, comm: comm, bucketBytes: bucketBytes)
            defer { dp.close() }
            let g = flat.grads!.base
            for i in 0..<flat.count { g[i] = Float(comm.rank + 1) * 0.001 * Float(i % 97) }
            let n = reps(bytes: c.floats * 4, requested: requested)
            let warm = n >= 10 ? 2 : 1
            // The hook calls below stand for `dp.backward`, which seeds the loss gradient with
            // 1/worldSize: the reduction is a plain sum. Untimed: keep values bounded over repetitions.
            func rescale() { if comm.worldSize > 1 { for i in 0..<flat.count { g[i] *= 1 / Float(comm.worldSize) } } }

            // Ours: the backward hook fires for every parameter in reverse registration order (as
            // backward would, with no compute in between), then the step waits for the sync.
            var ours: [Double] = []
            for r in 0..<(n + warm) {
                try comm.barrier()
                let t0 = MonotonicClock.now()
                for t in ts.reversed() { dp.gradientReady(t) }
                try dp.finishGradientSync()
                if r >= warm { ours.append(MonotonicClock.now() - t0) }
                rescale()
            }

            // Raw: one MPI_Allreduce of the whole gradient buffer.
            var raw: [Double] = []
            for r in 0..<(n + warm) {
                try comm.barrier()
                let t0 = MonotonicClock.now()
                try comm.allReduce(g, count: flat.count, average: false)
                if r >= warm { raw.append(MonotonicClock.now() - t0) }
                rescale()
            }

            // memcpy bandwidth at this size (bytes copied per second), same process, same moment.
            let bytes = flat.count * 4
            let dst = Storage(count: flat.count)
            var copy: [Double] = []
            for r in 0..<(n + warm) {
                let t0 = MonotonicClock.now()
                memcpy(dst.base, g, bytes)
                if r >= warm { copy.append(MonotonicClock.now() - t0) }
            }
            let bw = Double(bytes) / median(copy)
            let factor = comm.worldSize > 1 ? 2 * Double(comm.worldSize - 1) / Double(comm.worldSize) : 0
            // The slowest rank decides: report the maximum over ranks of each median.
            var times = [median(ours), median(raw)]
            var maxes = try comm.allGather(times.map { Int64($0 * 1e9) })
            if maxes.isEmpty { maxes = times.map { Int64($0 * 1e9) } }
            times = [0, 1].map { k in Double(stride(from: k, to: maxes.count, by: 2).map { maxes[$0] }.max() ?? 0) * 1e-9 }
            emit(Row(name: c.name, bytes: bytes, ranks: comm.worldSize, buckets: dp.buckets.count, reps: n,
                     oursMs: times[0] * 1e3, mpiMs: times[1] * 1e3, memcpyGBps: bw / 1e9,
                     boundMs: factor * Double(bytes) / bw * 1e3))
        }
    }
}
