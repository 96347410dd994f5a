// Checkpoint kill points for the fault tests (scripts/fault-tests.sh, docs/cluster.md).
//
//   IFER_FAULT_CHECKPOINT=PHASE   the writing rank SIGKILLs itself at PHASE of its next
//                                 checkpoint write (every write, so set it for one run only)
//
// A SIGKILL is the harshest crash there is: no defer, no atexit, no flush. The phases follow
// CheckpointWriter.save's sequence:
//
//   after-data     every dataset is in the temporary ".ckpt-<step>.h5.tmp-<pid>", not yet fsynced
//   after-fsync    the temporary file is on disk, no sidecar yet
//   after-sidecar  "<name>.sha256" is written, the file still has its temporary name
//   after-rename   "ckpt-<step>.h5" exists and the directory is fsynced; `latest` still names
//                  the previous checkpoint (before-latest is the same point)
//   after-latest   `latest` names the new file; older checkpoints not yet pruned
//
// Whatever the phase, the previous checkpoint must stay valid and `--resume auto` must pick a
// complete one. Unset (production) this costs one dictionary lookup per write.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FaultInjection {
    static let checkpointVariable = "IFER_FAULT_CHECKPOINT"

    /// The phase names a user may give, per write point.
    static func phaseNames(_ point: CheckpointWriter.WritePoint) -> [String] {
        switch point {
        case .datasetsWritten: return ["after-data"]
        case .fileSynced: return ["after-fsync"]
        case .sidecarWritten: return ["after-sidecar"]
        case .renamed: return ["after-rename", "before-latest"]
        case .latestUpdated: return ["after-latest"]
        }
    }

    /// Called by CheckpointWriter.save at each write point with the file being written. Kills
    /// this process with SIGKILL when IFER_FAULT_CHECKPOINT names this point; throws when the
    /// variable names no phase at all (a typo must not silently test nothing).
    static func checkpointPhase(_ point: CheckpointWriter.WritePoint, path: String) throws {
        guard let wanted = ProcessInfo.processInfo.environment[checkpointVariable], !wanted.isEmpty else { return }
        let known = CheckpointWriter.WritePoint.allCases.flatMap(phaseNames)
        guard known.contains(wanted) else {
            throw CheckpointError(.io, path: path,
                                  "\(checkpointVariable)='\(wanted)' is not a phase; use one of \(known.joined(separator: ", "))")
        }
        guard phaseNames(point).contains(wanted) else { return }
        FileHandle.standardError.write(Data("fault: \(checkpointVariable)=\(wanted): pid \(getpid()) kills itself writing \(path)\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
