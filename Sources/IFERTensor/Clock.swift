import Foundation

/// The one monotonic clock of the project: seconds since an arbitrary fixed point (boot), never
/// stepped by NTP or the user, so differences are durations. The trainers' progress lines, the
/// watchdog and every benchmark read it.
public enum MonotonicClock {
    /// Seconds, with nanosecond resolution (CLOCK_MONOTONIC).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
