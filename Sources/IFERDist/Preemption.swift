import Dispatch
import Foundation

/// The preemption warning of a scheduler. Slurm sends SIGUSR1 (`--signal=B:USR1@N`, forwarded to
/// the job step) or SIGTERM (`scontrol requeue`, the time limit, `scancel`) some seconds before it
/// kills a job; mpirun and srun forward both to every rank. Once installed, either signal only
/// sets a flag: the training loop looks at it at the next step boundary, where every rank agrees
/// (one all-reduce), rank 0 writes a checkpoint and the job exits with `exitCode`, Slurm's
/// `RequeueExit`, so that the job is requeued and resumes with `--resume auto`.
public final class Preemption {
    /// Exit status of a job that checkpointed because it was told to stop (RequeueExit=85 in the
    /// cluster/ Slurm configs).
    public static let exitCode: Int32 = 85

    private let lock = NSLock()
    private var signalName: String?
    private var sources: [DispatchSourceSignal] = []

    /// Catches `signals` (SIGUSR1 and SIGTERM by default) from now on.
    public init(signals: [Int32] = [SIGUSR1, SIGTERM]) {
        for s in signals {
            signal(s, SIG_IGN)   // the dispatch source sees it; the default action (terminate) does not run
            let src = DispatchSource.makeSignalSource(signal: s, queue: .global())
            let name = s == SIGUSR1 ? "SIGUSR1" : s == SIGTERM ? "SIGTERM" : "signal \(s)"
            src.setEventHandler { [weak self] in self?.note(name) }
            src.resume()
            sources.append(src)
        }
    }

    deinit { for s in sources { s.cancel() } }

    private func note(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        if signalName == nil { signalName = name }
    }

    /// The first signal received on this rank, if any.
    public var received: String? {
        lock.lock(); defer { lock.unlock() }
        return signalName
    }

    /// Whether any rank has received a signal: collective, so every rank gets the same answer
    /// at the same step boundary.
    public func anyRank(_ comm: Communicator) throws -> Bool {
        var flag: [Double] = [received == nil ? 0 : 1]
        try flag.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: 1) }
        return flag[0] > 0
    }
}
