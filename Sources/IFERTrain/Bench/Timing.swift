import Foundation

/// Median-of-repetitions timing, as the PyTorch peer does it (peers/peer_bench.py `time_fn`):
/// warm up, estimate one call, then repeat until `minTime` seconds (at least `reps` calls).
public struct Timing {
    public let medianMs: Double
    public let minMs: Double
    public let reps: Int

    public static func measure(warmup: Int = 3, reps: Int = 10, minTime: Double = 1.0, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<warmup { try body() }
        let t0 = now()
        try body()
        let est = max(now() - t0, 1e-6)
        let n = max(reps, min(200, Int((minTime / est).rounded(.up))))
        var ts: [Double] = []
        ts.reserveCapacity(n)
        for _ in 0..<n {
            let s = now()
            try body()
            ts.append(now() - s)
        }
        ts.sort()
        let median = ts.count % 2 == 1 ? ts[ts.count / 2] : (ts[ts.count / 2 - 1] + ts[ts.count / 2]) / 2
        return Timing(medianMs: median * 1e3, minMs: ts[0] * 1e3, reps: n)
    }

    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// One JSON object per line on stdout, keys in a stable order.
public func emitJSON(_ fields: KeyValuePairs<String, Any>) {
    var parts: [String] = []
    for (k, v) in fields {
        let value: String
        switch v {
        case let s as String: value = "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let d as Double: value = d.isFinite ? String(format: "%.4f", d) : "null"
        case let f as Float: value = f.isFinite ? String(format: "%.4f", f) : "null"
        case let b as Bool: value = b ? "true" : "false"
        default: value = "\(v)"
        }
        parts.append("\"\(k)\": \(value)")
    }
    print("{" + parts.joined(separator: ", ") + "}")
    fflush(stdout)
}
