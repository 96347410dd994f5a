// What every benchmark here shares: the clock (MonotonicClock, in IFERTensor, the one the
// trainers use too), one median, one repetition loop and one JSON-lines emitter.
import Foundation
import IFERTensor

/// The median of some samples (the mean of the two middle ones for an even count; 0 for none).
public func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Seconds that `body` takes, on the monotonic clock.
public func measureSeconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = MonotonicClock.now()
    try body()
    return MonotonicClock.now() - t0
}

/// Median-of-repetitions timing, as the PyTorch peer does it (peers/peer_bench.py `time_fn`):
/// warm up, estimate one call, then repeat until `minTime` seconds (at least `reps` calls, at
/// most 200).
public struct Timing {
    public let medianMs: Double
    public let minMs: Double
    public let reps: Int

    public static func measure(warmup: Int = 3, reps: Int = 10, minTime: Double = 1.0, _ body: () throws -> Void) rethrows -> Timing {
        try measure(warmup: warmup, reps: reps, minTime: minTime, before: {}, after: { _ in }, body)
    }

    /// The same, calling `before()` ahead of every timed call (untimed) and `after(seconds)`
    /// with each timed call's duration: for a reference measured beside every repetition.
    public static func measure(warmup: Int = 3, reps: Int = 10, minTime: Double = 1.0, before: () -> Void,
                               after: (Double) -> Void, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<warmup { try body() }
        let est = max(try measureSeconds(body), 1e-6)
        let n = max(reps, min(200, Int((minTime / est).rounded(.up))))
        var ts: [Double] = []
        ts.reserveCapacity(n)
        for _ in 0..<n {
            before()
            let t = try measureSeconds(body)
            after(t)
            ts.append(t)
        }
        return Timing(medianMs: median(ts) * 1e3, minMs: (ts.min() ?? 0) * 1e3, reps: n)
    }
}

/// One JSON object per line on stdout, keys in the order given. Strings are escaped, doubles
/// printed with 6 decimals (non-finite ones as null), integers and booleans as they are.
public func emitJSON(_ fields: KeyValuePairs<String, Any>) {
    emitJSON(fields.map { ($0.key, $0.value) })
}

/// The same for fields built up at run time.
public func emitJSON(_ fields: [(String, Any)]) {
    var parts: [String] = []
    for (k, v) in fields {
        let value: String
        switch v {
        case let s as String: value = jsonString(s)
        case let d as Double: value = d.isFinite ? String(format: "%.6f", d) : "null"
        case let f as Float: value = f.isFinite ? String(format: "%.6f", Double(f)) : "null"
        case let b as Bool: value = b ? "true" : "false"
        default: value = "\(v)"
        }
        parts.append(jsonString(k) + ": " + value)
    }
    print("{" + parts.joined(separator: ", ") + "}")
    fflush(stdout)
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
