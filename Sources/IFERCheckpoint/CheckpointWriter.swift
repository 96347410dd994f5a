// Writes checkpoints crash-safely (DESIGN.md section 8). The sequence, and why each step:
//   1. write every dataset to ".ckpt-<step>.h5.tmp-<pid>" (never matches ckpt-*.h5, so a crash
//      mid-write leaves nothing a reader would pick up) and close it;
//   2. fsync the temporary file so its bytes are on disk before any name points at them, and
//      meanwhile hash the whole file (from the page cache, on a second thread);
//   3. write "<name>.sha256" (atomically), so readers can refuse a corrupt file before the
//      HDF5 parser touches it;
//   4. rename the temporary file to "ckpt-<step:08>.h5" and fsync the directory (the rename
//      itself is now durable);
//   5. update "latest" (temporary + fsync + rename + directory fsync), last, so it only ever
//      names a complete file;
//   6. delete all but the newest `keep` checkpoints up to this step (and their sidecars) and
//      stale temporaries.
import Foundation
import IFERIO
import IFERTensor

public enum CheckpointWriter {
    /// Points in `save` where tests inject failures (a thrown error stands for a crash there).
    enum WritePoint: CaseIterable { case datasetsWritten, fileSynced, sidecarWritten, renamed, latestUpdated }
    /// Test hook, nil in production.
    nonisolated(unsafe) static var faultHook: ((WritePoint) throws -> Void)?

    /// Writes `state` as `<runDir>/checkpoints/ckpt-<step:08>.h5`, updates `latest`, keeps the
    /// newest `keep` (>= 1) checkpoints. Returns the new file's path. Single process: under
    /// mpirun call `saveCollective` on every rank instead.
    @discardableResult
    public static func save(_ state: CheckpointState, runDir: String, keep: Int) throws -> String {
        guard keep >= 1 else { throw CheckpointError(.io, path: runDir, "keep must be at least 1, got \(keep)") }
        guard state.step >= 0 else { throw CheckpointError(.io, path: runDir, "negative step \(state.step)") }
        try validateKeys(state, runDir: runDir)
        let dir = CheckpointFormat.checkpointsDir(runDir: runDir)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, path: dir, "cannot create checkpoint directory: \(error.localizedDescription)")
        }
        let name = CheckpointFormat.fileName(step: state.step)
        let final = (dir as NSString).appendingPathComponent(name)
        let tmp = (dir as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        let sidecar = CheckpointFormat.sidecarPath(for: final)
        var renamed = false
        defer { if !renamed { try? FileManager.default.removeItem(atPath: tmp) } }

        try writeFile(state, to: tmp)
        try faultHook?(.datasetsWritten)
        try FaultInjection.checkpointPhase(.datasetsWritten, path: tmp)
        // fsync waits for the disk while the whole file is hashed from the page cache.
        let digest = try Durable.fsyncWhileHashing(path: tmp)
        try faultHook?(.fileSynced)
        try FaultInjection.checkpointPhase(.fileSynced, path: tmp)
        // sha256sum's format, so `sha256sum -c ckpt-….h5.sha256` works from the checkpoint directory.
        // A file of this step may exist already (left by a continuation this run was rewound
        // from): it is moved aside with its sidecar, never written over.
        try moveAside(final, suffix: "superseded")
        try Durable.writeTextAtomically("\(digest)  \(name)\n", to: sidecar)
        try faultHook?(.sidecarWritten)
        try FaultInjection.checkpointPhase(.sidecarWritten, path: tmp)
        try Durable.rename(tmp, to: final)
        renamed = true
        try Durable.fsync(path: dir)
        try faultHook?(.renamed)
        try FaultInjection.checkpointPhase(.renamed, path: final)
        try Durable.writeTextAtomically(name + "\n", to: (dir as NSString).appendingPathComponent(CheckpointFormat.latestFile))
        try faultHook?(.latestUpdated)
        try FaultInjection.checkpointPhase(.latestUpdated, path: final)
        prune(dir: dir, keep: keep, currentStep: state.step)
        return final
    }

    /// Renames `path` (and its sidecar) to `<path>.<suffix>-<UTC time>` if it exists, so that no
    /// checkpoint is ever overwritten: the bytes stay on disk under a name no reader or rotation
    /// picks up. Returns the new name, or nil when there was nothing to move.
    @discardableResult
    public static func moveAside(_ path: String, suffix: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let target = "\(path).\(suffix)-\(stamp)"
        try Durable.rename(path, to: target)
        let sidecar = CheckpointFormat.sidecarPath(for: path)
        if FileManager.default.fileExists(atPath: sidecar) { try Durable.rename(sidecar, to: target + ".sha256") }
        try Durable.fsync(path: (path as NSString).deletingLastPathComponent)
        return target
    }

    /// Rejects empty, duplicate or path-escaping keys before anything is written.
    static func validateKeys(_ state: CheckpointState, runDir: String) throws {
        func check(_ keys: [String], _ what: String) throws {
            var seen = Set<String>()
            for k in keys {
                if k.isEmpty || k.hasPrefix("/") || k.hasSuffix("/") || k.contains("//") || k.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
                    throw CheckpointError(.stateMismatch, path: runDir, "invalid \(what) key '\(k)'")
                }
                if !seen.insert(k).inserted { throw CheckpointError(.stateMismatch, path: runDir, "duplicate \(what) key '\(k)'") }
            }
        }
        try check(state.params.map(\.key), "parameter")
        try check(state.buffers.map(\.key), "buffer")
        try check(state.optimizers.map(\.name), "optimizer")
        for o in state.optimizers {
            try check(o.tensors.map(\.key) + o.int64s.map(\.key) + o.scalars.map(\.key), "optimizer '\(o.name)'")
        }
    }

    /// Writes the HDF5 contents (no renames, no sidecar).
    static func writeFile(_ state: CheckpointState, to path: String) throws {
        do {
            let f = try H5File(path: path, mode: .create)
            defer { f.close() }
            let createdAt = state.createdAt.isEmpty ? ISO8601DateFormatter().string(from: Date()) : state.createdAt
            try f.setAttribute("format", .string(CheckpointFormat.name))
            try f.setAttribute("format_version", .int64(Int64(CheckpointFormat.version)))
            try f.setAttribute("stage", .string(state.stage))
            try f.setAttribute("step", .int64(Int64(state.step)))
            try f.setAttribute("epoch", .int64(Int64(state.epoch)))
            try f.setAttribute("world_size", .int64(Int64(state.worldSize)))
            try f.setAttribute("config", .string(state.config))
            try f.setAttribute("architecture", .string(state.architecture))
            try f.setAttribute("created_at", .string(createdAt))
            if !state.classNames.isEmpty { try f.setAttribute("class_names", .strings(state.classNames)) }
            // Empty groups are written too, so the layout is the same for every stage.
            for g in [CheckpointFormat.params, CheckpointFormat.buffers, CheckpointFormat.optimizer, CheckpointFormat.ranks] {
                try f.createGroup(g)
            }
            // Every tensor's checksum first, over all threads; then the writes, in order.
            let tensors = state.params.map(\.tensor) + state.buffers.map(\.tensor) + state.optimizers.flatMap { $0.tensors.map(\.tensor) }
            var digests = Checksums.hexDigests(tensors).makeIterator()
            func writeTensor(_ key: String, _ t: Tensor) throws { try CheckpointWriter.writeTensor(f, key, t, digest: digests.next() ?? "") }
            for (k, t) in state.params { try writeTensor("\(CheckpointFormat.params)/\(k)", t) }
            for (k, t) in state.buffers { try writeTensor("\(CheckpointFormat.buffers)/\(k)", t) }
            for o in state.optimizers {
                let base = "\(CheckpointFormat.optimizer)/\(o.name)"
                try f.createGroup(base)
                for (k, t) in o.tensors { try writeTensor("\(base)/\(k)", t) }
                for (k, v) in o.int64s { try writeArray(f, "\(base)/\(k)", v, shape: [v.count]) }
                for (k, v) in o.scalars { try writeArray(f, "\(base)/\(k)", [v], shape: []) }
            }
            for (r, rs) in state.ranks.enumerated() {
                try writeArray(f, "\(CheckpointFormat.ranks)/\(r)/rng", rs.rng, shape: [rs.rng.count])
                try writeArray(f, "\(CheckpointFormat.ranks)/\(r)/cursor", rs.cursor, shape: [rs.cursor.count])
            }
        } catch let e as IOError {
            throw CheckpointError(.io, path: path, "\(e.key.map { $0 + ": " } ?? "")\(e.message)")
        }
    }

    /// `digest`: the hex SHA-256 of the tensor's bytes (computed beforehand, see Checksums).
    private static func writeTensor(_ f: H5File, _ key: String, _ t: Tensor, digest: String) throws {
        let ds = try f.createDataset(key, of: Float.self, shape: t.shape)
        defer { ds.close() }
        try ds.write(UnsafeBufferPointer(t.buffer))
        try ds.setAttribute(CheckpointFormat.datasetChecksumAttribute, .string(digest))
    }

    private static func writeArray<T: H5Element>(_ f: H5File, _ key: String, _ v: [T], shape: [Int]) throws {
        let ds = try f.createDataset(key, of: T.self, shape: shape)
        defer { ds.close() }
        try ds.write(v)
        let digest = v.withUnsafeBytes { SHA256.hexHash($0) }
        try ds.setAttribute(CheckpointFormat.datasetChecksumAttribute, .string(digest))
    }

    /// Keeps the newest `keep` checkpoints up to `currentStep` (the one just written is the newest)
    /// and deletes older ones with their sidecars, plus temporaries left by crashed writers.
    /// Files with a higher step (left by a continuation this run was rewound from) are not
    /// touched: they are overwritten when the run reaches their step. Best effort.
    static func prune(dir: String, keep: Int, currentStep: Int) {
        let older = CheckpointFormat.listCheckpoints(in: dir).filter { $0.step <= currentStep }
        for (i, c) in older.enumerated() where i >= keep {
            try? FileManager.default.removeItem(atPath: c.path)
            try? FileManager.default.removeItem(atPath: CheckpointFormat.sidecarPath(for: c.path))
        }
        // Sidecars whose checkpoint is gone, and stale temporaries (rank 0 is the only writer).
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for n in names {
            let p = (dir as NSString).appendingPathComponent(n)
            if n.hasPrefix(".ckpt-") && n.contains(".tmp-") { try? FileManager.default.removeItem(atPath: p) }
            if n.hasSuffix(".h5.sha256") && !FileManager.default.fileExists(atPath: String(p.dropLast(7))) {
                try? FileManager.default.removeItem(atPath: p)
            }
        }
    }
}
