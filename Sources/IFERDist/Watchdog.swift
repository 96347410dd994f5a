import Foundation
import IFERTensor

/// Ends a hung job. An MPI collective waits forever for a peer that stopped (SIGSTOP, a deadlock,
/// a rank stuck in I/O): Open MPI has no timeout of its own. The watchdog is a thread that knows
/// what this rank is doing (the current step, the collectives in flight and since when) and, when
/// a collective or a whole step runs past its timeout, prints which step, operation and rank
/// waited, then aborts every rank (MPI_Abort through the communicator).
///
/// A rank that dies (killed, crashed) is a different case: mpirun sees it exit and ends the job
/// itself within about two seconds.
public final class Watchdog {
    /// Seconds one collective may take (0 = unlimited).
    public let collectiveTimeout: Double
    /// Seconds one step may take, from `beginStep` to the next `beginStep` (0 = unlimited).
    public let stepTimeout: Double
    /// Exit status of a job the watchdog ended.
    public static let exitCode: Int32 = 124

    let rank: Int
    private let onTimeout: (String) -> Void
    private let lock = NSLock()
    private var step = -1
    private var stepSince = 0.0
    private var ops: [Int: (name: String, since: Double)] = [:]
    private var nextToken = 0
    private var running = true
    private var thread: Thread?

    /// `onTimeout` receives the message; by default (the `comm` initializer) it aborts the job.
    public init(rank: Int, collectiveTimeout: Double, stepTimeout: Double = 0, onTimeout: @escaping (String) -> Void) {
        self.rank = rank
        self.collectiveTimeout = collectiveTimeout
        self.stepTimeout = stepTimeout
        self.onTimeout = onTimeout
        let timeouts = [collectiveTimeout, stepTimeout].filter { $0 > 0 }
        guard let shortest = timeouts.min() else { return }
        // Check often enough to act within ~5% of the shortest timeout.
        let poll = min(0.2, max(0.005, shortest / 20))
        stepSince = MonotonicClock.now()
        let t = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: poll)
                guard let self = self, self.check() else { return }
            }
        }
        t.name = "ifer-watchdog"
        t.start()
        thread = t
    }

    /// Watches `comm`'s collectives and aborts the whole job on a timeout. Installs itself as
    /// `comm.watchdog`.
    @discardableResult
    public static func install(on comm: Communicator, collectiveTimeout: Double, stepTimeout: Double = 0) -> Watchdog {
        comm.watchdog?.stop()
        let w = Watchdog(rank: comm.rank, collectiveTimeout: collectiveTimeout, stepTimeout: stepTimeout) { [weak comm] message in
            if let c = comm { c.abort(message, code: Watchdog.exitCode) }
            FileHandle.standardError.write(Data(message.utf8))
            _exit(Watchdog.exitCode)
        }
        comm.watchdog = w
        return w
    }

    /// Marks the start of training step `n` (restarts the step timer).
    public func beginStep(_ n: Int) {
        lock.lock(); step = n; stepSince = MonotonicClock.now(); lock.unlock()
    }

    /// The step most recently begun (-1 before the first).
    public var currentStep: Int { lock.lock(); defer { lock.unlock() }; return step }

    /// Marks the start of an operation; returns a token for `leave`.
    public func enter(_ op: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        nextToken += 1
        ops[nextToken] = (op, MonotonicClock.now())
        return nextToken
    }

    public func leave(_ token: Int) {
        lock.lock(); ops[token] = nil; lock.unlock()
    }

    /// Runs `body` as one watched operation.
    public func watch<T>(_ op: String, _ body: () throws -> T) rethrows -> T {
        let t = enter(op)
        defer { leave(t) }
        return try body()
    }

    public func stop() {
        lock.lock(); running = false; lock.unlock()
    }

    /// One look at the clock. Returns false when the watchdog should stop.
    private func check() -> Bool {
        lock.lock()
        guard running else { lock.unlock(); return false }
        let t = MonotonicClock.now()
        var message: String?
        let stepText = step >= 0 ? "step \(step)" : "start-up (before step 0)"
        if collectiveTimeout > 0, let oldest = ops.values.min(by: { $0.since < $1.since }),
           t - oldest.since > collectiveTimeout {
            message = "watchdog: rank \(rank) waited \(fmt(t - oldest.since)) s in \(oldest.name) at \(stepText) "
                + "(collective timeout \(fmt(collectiveTimeout)) s): a peer rank is stuck, stopped or dead; aborting the job"
        } else if stepTimeout > 0, step >= 0, t - stepSince > stepTimeout {
            let current = ops.values.min(by: { $0.since < $1.since })?.name ?? "computation (no collective in flight)"
            message = "watchdog: rank \(rank) spent \(fmt(t - stepSince)) s in \(stepText), now in \(current) "
                + "(step timeout \(fmt(stepTimeout)) s); aborting the job"
        }
        if message != nil { running = false }
        lock.unlock()
        if let m = message { onTimeout(m) }
        return message == nil
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
}
