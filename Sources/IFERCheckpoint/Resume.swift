// Choosing what to resume from: "none", "auto" (the newest checkpoint that verifies), or a path.
import Foundation

public struct ResumeDecision: Equatable {
    /// The checkpoint to load, or nil to start fresh.
    public var path: String?
    /// Problems seen on the way (e.g. a corrupt newest checkpoint that was skipped).
    public var warnings: [String]
    /// Whether the run folder holds any checkpoint file at all (verifying or not): with none
    /// that verifies, a run must not start over there (it would overwrite them).
    public var foundCheckpoints = false
    /// Checkpoint files that failed to verify on the way (rank 0 only).
    public var unreadable: [String] = []

    public init(path: String?, warnings: [String], foundCheckpoints: Bool = false) {
        self.path = path
        self.warnings = warnings
        self.foundCheckpoints = foundCheckpoints
    }
}

public enum Resume {
    /// `spec` is "none", "auto" or a path. "auto" takes the file `<runDir>/checkpoints/latest`
    /// names when it verifies (sidecar hash, HDF5 header, format version); otherwise it scans the
    /// directory newest step first for one that does, and each file skipped becomes a warning.
    /// `latest` decides rather than the highest step because a run resumed from an older
    /// checkpoint leaves higher-numbered files of the abandoned continuation behind. (A crash
    /// between the rename and the `latest` update costs one checkpoint interval, never
    /// correctness.) A path must verify, or this throws; a directory is treated like "auto" on it.
    /// `excluding` lists checkpoints that verified but failed to load (the driver falls back past them).
    public static func resolve(_ spec: String, runDir: String, excluding: [String] = []) throws -> ResumeDecision {
        switch spec {
        case "none", "":
            let existing = CheckpointFormat.listCheckpoints(in: CheckpointFormat.checkpointsDir(runDir: runDir))
            if !existing.isEmpty {
                throw CheckpointError(.io, path: runDir, "--resume none: this run folder already holds \(existing.count) checkpoint(s) (newest \((existing[0].path as NSString).lastPathComponent)); a fresh run there would overwrite them. Use a new --run-dir, or --resume auto to continue")
            }
            return ResumeDecision(path: nil, warnings: [])
        case "auto": return newestValid(in: CheckpointFormat.checkpointsDir(runDir: runDir), excluding: excluding)
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
    public static func newestValid(in dir: String, excluding: [String] = []) -> ResumeDecision {
        var warnings: [String] = []
        var unreadable: [String] = []
        var tried: String?
        let found = !CheckpointFormat.listCheckpoints(in: dir).isEmpty
        let latestPath = (dir as NSString).appendingPathComponent(CheckpointFormat.latestFile)
        if let data = FileManager.default.contents(atPath: latestPath) {
            let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if CheckpointFormat.step(ofFileName: name) == nil {
                warnings.append("\(latestPath) does not name a checkpoint file ('\(name)'); scanning the directory")
            } else if !excluding.contains((dir as NSString).appendingPathComponent(name)) {
                let p = (dir as NSString).appendingPathComponent(name)
                tried = p
                do {
                    try validate(p)
                    var d = ResumeDecision(path: p, warnings: warnings, foundCheckpoints: found)
                    d.unreadable = unreadable
                    return d
                } catch {
                    warnings.append("skipping \(error) (named by \(latestPath))")
                    unreadable.append(p)
                }
            }
        }
        for c in CheckpointFormat.listCheckpoints(in: dir) where c.path != tried && !excluding.contains(c.path) {
            do {
                try validate(c.path)
                var d = ResumeDecision(path: c.path, warnings: warnings, foundCheckpoints: found)
                d.unreadable = unreadable
                return d
            } catch {
                warnings.append("skipping \(error)")
                unreadable.append(c.path)
            }
        }
        var d = ResumeDecision(path: nil, warnings: warnings, foundCheckpoints: found)
        d.unreadable = unreadable
        return d
    }

    /// Sidecar hash, then HDF5 open and header checks. Per-dataset checksums are checked at load.
    public static func validate(_ path: String) throws {
        let r = try CheckpointReader(path: path)
        r.close()
    }
}
