import Foundation
import Logging

/// Every optimiser update of every stage goes through `update`. The gradients are all-reduced
/// before it, so a non-finite loss on any rank makes the averaged gradient non-finite on every
/// rank: all ranks see the same thing without another message and take the same decision.
///
/// `train.on_nonfinite`:
///   - `stop`: every rank throws `TrainingError.nonFinite` naming the step and the rank(s) whose
///     loss was not finite; nothing is written after the last good checkpoint;
///   - `skip`: the update is skipped on every rank (parameters and optimiser state unchanged) and
///     logged; more than `train.max_skipped_steps` skipped steps in a row stop the run.
///
/// Fault injection for the fault tests: `IFER_FAULT_NONFINITE=STEP:RANK` makes rank RANK's loss
/// NaN at step STEP (see `inject`).
public final class StepGuard {
    public enum Policy: String, CaseIterable { case stop, skip }

    let policy: Policy
    let maxSkippedInARow: Int
    let comm: Communicator
    let log: Logger
    let fault: (step: Int, rank: Int)?
    public private(set) var skippedSteps = 0
    var skippedInARow = 0
    var lastSkippedStep = -1

    public init(policy: Policy, maxSkippedInARow: Int, comm: Communicator, log: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.policy = policy
        self.maxSkippedInARow = maxSkippedInARow
        self.comm = comm
        self.log = log
        if let spec = environment["IFER_FAULT_NONFINITE"] {
            let parts = spec.split(separator: ":").map { Int($0) }
            guard parts.count == 2, let s = parts[0], let r = parts[1], s >= 0, r >= 0 else {
                throw ConfigError.badValue(path: "IFER_FAULT_NONFINITE", detail: "expected STEP:RANK, got '\(spec)'")
            }
            fault = (s, r)
        } else {
            fault = nil
        }
    }

    /// The loss this rank backpropagates: `loss` itself, or NaN at the injected fault's step and rank.
    public func inject(_ loss: Tensor, step: Int) throws -> Tensor {
        guard let f = fault, f.step == step, f.rank == comm.rank else { return loss }
        log.warning("fault injection: rank \(comm.rank)'s loss is NaN at step \(step) (IFER_FAULT_NONFINITE)")
        return try scale(loss, .nan)
    }

    /// Runs `update` (clip + optimiser step) unless the all-reduced gradients in `flat` hold a
    /// non-finite value. `localLoss` is this rank's loss, to name the ranks at fault. Returns
    /// whether the update ran. Collective when the gradients are not finite.
    @discardableResult
    public func update(_ flat: FlatBuffer, localLoss: Double, step: Int, what: String, _ update: () throws -> Void) throws -> Bool {
        if StepGuard.allFinite(flat) {
            if lastSkippedStep != step { skippedInARow = 0 }
            try update()
            return true
        }
        let flags = try comm.allGather([localLoss.isFinite ? 0 : 1])
        let ranks = flags.indices.filter { flags[$0] != 0 }
        let who = ranks.isEmpty ? "no rank's loss was non-finite; a gradient overflowed" : "non-finite loss on rank \(ranks.map(String.init).joined(separator: ", "))"
        switch policy {
        case .stop:
            throw TrainingError.nonFinite(step: step, what: what, detail: who)
        case .skip:
            if lastSkippedStep != step { skippedSteps += 1; skippedInARow += 1; lastSkippedStep = step }
            if comm.isRoot { log.warning("step \(step): \(what) skipped: non-finite gradient (\(who)); train.on_nonfinite = skip") }
            if skippedInARow > maxSkippedInARow {
                throw TrainingError.nonFinite(step: step, what: what, detail: who + "; \(skippedInARow) steps in a row skipped (train.max_skipped_steps = \(maxSkippedInARow))")
            }
            return false
        }
    }

    static func allFinite(_ flat: FlatBuffer) -> Bool {
        guard let g = flat.grads?.base else { return true }
        // A sum is non-finite exactly when some addend is (or it overflows, which is as bad).
        var s: Float = 0
        for i in 0..<flat.count { s += g[i] * 0 }
        return s == 0
    }
}

/// Errors of the training loop itself (config errors are ConfigError, file errors name their file).
public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, what: String, detail: String)
    case preempted(step: Int, checkpoint: String)
    case noUsableCheckpoint(runDir: String, detail: String)

    public var description: String {
        switch self {
        case let .nonFinite(step, what, detail):
            return "non-finite gradient at step \(step) (\(what)): \(detail); the run stops (train.on_nonfinite = stop) and its last good checkpoint is kept"
        case let .preempted(step, checkpoint):
            return "preempted at step \(step): checkpoint \(checkpoint) written"
        case let .noUsableCheckpoint(runDir, detail):
            return "run folder \(runDir): \(detail)"
        }
    }
}
