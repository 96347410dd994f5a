// Checkpointing under mpirun. Only rank 0 writes. Each rank's RNG state and loader cursor are
// gathered first (two small all-gathers), then rank 0 writes while the other ranks wait in one
// broadcast of the outcome: they block exactly as long as the write takes and no longer, and a
// failed write raises the same error on every rank instead of letting them train on silently.
import Foundation
import IFERDist

extension CheckpointWriter {
    /// Called by every rank with the same `state` fields (params may be empty on ranks > 0) and
    /// its own `local` RNG/cursor words. Returns the checkpoint path on every rank.
    @discardableResult
    public static func saveCollective(_ state: CheckpointState, local: RankState, runDir: String, keep: Int,
                                      comm: Communicator) throws -> String {
        // Every rank must contribute the same number of words, or the gather cannot be split.
        let counts = try comm.allGather([Int64(local.rng.count), Int64(local.cursor.count)])
        for r in 0..<comm.worldSize where counts[2 * r] != counts[0] || counts[2 * r + 1] != counts[1] {
            throw DistError.mismatch("checkpoint step \(state.step): rank \(r) has \(counts[2 * r]) RNG / \(counts[2 * r + 1]) cursor words, rank 0 has \(counts[0]) / \(counts[1])")
        }
        let words = try comm.allGather(local.rng.map { Int64(bitPattern: $0) } + local.cursor)
        var outcome = ""
        if comm.isRoot {
            var s = state
            let per = local.rng.count + local.cursor.count
            s.worldSize = comm.worldSize
            s.ranks = (0..<comm.worldSize).map { r in
                let w = words[(r * per)..<((r + 1) * per)]
                return RankState(rng: w.prefix(local.rng.count).map { UInt64(bitPattern: $0) }, cursor: Array(w.suffix(local.cursor.count)))
            }
            do { outcome = "ok:" + (try save(s, runDir: runDir, keep: keep)) } catch { outcome = "error:\(error)" }
        }
        outcome = try comm.broadcast(outcome, root: 0)
        if outcome.hasPrefix("ok:") { return String(outcome.dropFirst(3)) }
        throw CheckpointError(.io, path: CheckpointFormat.checkpointsDir(runDir: runDir),
                              "rank 0 failed to write the checkpoint of step \(state.step): \(outcome.dropFirst(6))")
    }
}

extension Resume {
    /// Rank 0 resolves `spec` and broadcasts the choice, so every rank loads the same file.
    /// Warnings are returned on rank 0 only (it is the one that logs).
    public static func resolveCollective(_ spec: String, runDir: String, comm: Communicator, excluding: [String] = []) throws -> ResumeDecision {
        var decision = ResumeDecision(path: nil, warnings: [])
        var message = ""
        if comm.isRoot {
            do {
                decision = try resolve(spec, runDir: runDir, excluding: excluding)
                message = (decision.foundCheckpoints ? "ok+:" : "ok-:") + (decision.path ?? "")
            } catch { message = "error:\(error)" }
        }
        message = try comm.broadcast(message, root: 0)
        guard message.hasPrefix("ok") else {
            throw CheckpointError(.io, path: spec, "rank 0 could not resolve --resume: \(message.dropFirst(6))")
        }
        let p = String(message.dropFirst(4))
        var d = ResumeDecision(path: p.isEmpty ? nil : p, warnings: comm.isRoot ? decision.warnings : [],
                               foundCheckpoints: message.hasPrefix("ok+"))
        d.unreadable = comm.isRoot ? decision.unreadable : []
        return d
    }
}
