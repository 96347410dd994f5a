// Choosing what to resume from: "none", "auto" (the newest checkpoint that verifies), or a path.
import Foundation

public struct ResumeDecision: Equatable {
    /// The checkpoint to load, or nil to start fresh.
    public var path: String?
    /// Problems seen on the way (e.g. a corrupt newest checkpoint that was skipped).
    public var warnings: [String]
}

public enum Resume {
    /// `spec` is "none", "auto" or a path. "auto" scans `<runDir>/checkpoints` newest step first
    /// and takes the first file whose sidecar hash, HDF5 header and format version check out;
    /// each one skipped becomes a warning. (The scan, not `latest`, decides: after a crash between
    /// the rename and the `latest` update the newest complete file is still found.) A path must
    /// verify, or this throws; a directory path is treated like "auto" on that directory.
    public static func resolve(_ spec: String, runDir: String) throws -> ResumeDecision {
        switch spec {
        case "none", "": return ResumeDecision(path: nil, warnings: [])
        case "auto": return newestValid(in: CheckpointFormat.checkpointsDir(runDir: runDir))
        default:
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDir) else {
                throw CheckpointError(.io, path: spec, "--resume: no such checkpoint file or directory")
            }
            if isDir.boolValue {
                let sub = CheckpointFormat.checkpointsDir(runDir: spec)
                let d = newestValid(in: FileManager.default.fileExists(atPath: sub) ? sub : spec)
                if d.path == nil {
                    throw CheckpointError(.io, path: spec, "--resume: no valid checkpoint in this directory"
                                            + (d.warnings.isEmpty ? "" : " (" + d.warnings.joined(separator: "; ") + ")"))
                }
                return d
            }
            try validate(spec)
            return ResumeDecision(path: spec, warnings: [])
        }
    }

    /// The newest checkpoint in `dir` that verifies; a missing directory means a fresh start.
    public static func newestValid(in dir: String) -> ResumeDecision {
        var warnings: [String] = []
        for c in CheckpointFormat.listCheckpoints(in: dir) {
            do {
                try validate(c.path)
                return ResumeDecision(path: c.path, warnings: warnings)
            } catch {
                warnings.append("skipping \(error)")
            }
        }
        return ResumeDecision(path: nil, warnings: warnings)
    }

    /// Sidecar hash, then HDF5 open and header checks. Per-dataset checksums are checked at load.
    public static func validate(_ path: String) throws {
        let r = try CheckpointReader(path: path)
        r.close()
    }
}
