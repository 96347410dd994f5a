import Foundation
import IFERTensor

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

        public var json: String {
            func f(_ x: Double) -> String { String(format: "%.6f", x) }
            return "{\"bench\":\"allreduce\",\"name\":\"\(name)\",\"bytes\":\(bytes),\"ranks\":\(ranks),\"buckets\":\(buckets),"
                + "\"reps\":\(reps),\"ours_ms\":\(f(oursMs)),\"mpi_ms\":\(f(mpiMs)),\"memcpy_gbps\":\(f(memcpyGBps)),"
                + "\"bound_ms\":\(f(boundMs)),\"ours_busbw_gbps\":\(f(busBandwidth(oursMs))),\"mpi_busbw_gbps\":\(f(busBandwidth(mpiMs)))}"
        }

        /// nccl-tests' bus bandwidth: bytes/t x 2(n-1)/n, comparable with a link's bandwidth.
        func busBandwidth(_ ms: Double) -> Double {
            ranks > 1 && ms > 0 ? Double(bytes) / (ms * 1e-3) * 2 * Double(ranks - 1) / Double(ranks) / 1e9 : 0
        }
    }

    /// Buffers of 4 KB to 64 MB, then the gradient sizes of the micro, tiny (and with `paper`, the
    /// paper) configurations.
    public static func cases(paper: Bool) -> [Case] {
        var c = stride(from: 12, through: 26, by: 2).map { Case(name: sizeName(1 << $0), floats: (1 << $0) / 4) }
        c.append(Case(name: "micro", floats: 450_000))
        c.append(Case(name: "tiny", floats: 2_600_000))
        if paper { c.append(Case(name: "paper", floats: 300_000_000)) }
        return c
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

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
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
                           only: [String] = [], emit: (Row) -> Void) throws {
        for c in cases(paper: paper) where only.isEmpty || only.contains(c.name) {
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
                let t0 = now()
                for t in ts.reversed() { dp.gradientReady(t) }
                try dp.finishGradientSync()
                if r >= warm { ours.append(now() - t0) }
                rescale()
            }

            // Raw: one MPI_Allreduce of the whole gradient buffer.
            var raw: [Double] = []
            for r in 0..<(n + warm) {
                try comm.barrier()
                let t0 = now()
                try comm.allReduce(g, count: flat.count, average: false)
                if r >= warm { raw.append(now() - t0) }
                rescale()
            }

            // memcpy bandwidth at this size (bytes copied per second), same process, same moment.
            let bytes = flat.count * 4
            let dst = Storage(count: flat.count)
            var copy: [Double] = []
            for r in 0..<(n + warm) {
                let t0 = now()
                memcpy(dst.base, g, bytes)
                if r >= warm { copy.append(now() - t0) }
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
