import Foundation
import IFERIO
import IFERTensor
import XCTest
@testable import IFERCheckpoint

final class CheckpointTests: XCTestCase {
    func testRoundTripRestoresEverything() throws {
        let run = try makeTempDir(self)
        let s = sampleState(step: 42)
        let path = try CheckpointWriter.save(s, runDir: run, keep: 3)
        XCTAssertEqual(path, run + "/checkpoints/ckpt-00000042.h5")
        XCTAssertEqual(try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8), "ckpt-00000042.h5\n")
        let sidecar = try String(contentsOfFile: path + ".sha256", encoding: .utf8)
        XCTAssertEqual(sidecar, try SHA256.hexHash(file: path) + "  ckpt-00000042.h5\n")

        let l = try CheckpointReader.load(path)
        XCTAssertEqual(l.stage, "asit")
        XCTAssertEqual(l.step, 42)
        XCTAssertEqual(l.epoch, 4)
        XCTAssertEqual(l.worldSize, 2)
        XCTAssertEqual(l.config, s.config)
        XCTAssertEqual(l.architecture, "asit/micro")
        XCTAssertEqual(l.formatVersion, 1)
        XCTAssertFalse(l.createdAt.isEmpty)
        XCTAssertEqual(Set(l.params.map(\.key)), Set(s.params.map(\.key)))
        for (k, t) in s.params {
            XCTAssertEqual(l.param(k)?.shape, t.shape, k)
            XCTAssertEqual(l.param(k)?.array, t.array, k)
        }
        for (k, t) in s.buffers {
            XCTAssertEqual(l.buffer(k)?.shape, t.shape, k)
            XCTAssertEqual(l.buffer(k)?.array, t.array, k)
        }
        let adam = try XCTUnwrap(l.optimizer("encoder"))
        XCTAssertEqual(adam.tensor("exp_avg_sq/encoder.input_layer.0.weight")?.array, s.optimizers[0].tensors[1].tensor.array)
        XCTAssertEqual(adam.tensor("exp_avg/encoder.input_layer.0.weight")?.shape, [4, 3, 3, 3])
        XCTAssertEqual(adam.int64s("step"), [42])
        XCTAssertEqual(adam.scalar("lr"), 1e-4)
        XCTAssertEqual(adam.scalar("scheduler_position"), 12.5)
        XCTAssertEqual(l.optimizer("discriminator")?.tensor("momentum/w")?.array, [8, 8.25, 8.5])
        XCTAssertEqual(l.ranks, s.ranks)
        XCTAssertEqual(l.parameterCount, 108 + 4 + 64 + 1)

        // loadInto reads straight into the model's tensors.
        let model = s.params.map { (key: $0.key, tensor: Tensor(zeros: $0.tensor.shape)) }
        let bufs = s.buffers.map { (key: $0.key, tensor: Tensor(zeros: $0.tensor.shape)) }
        let r = try CheckpointReader(path: path)
        try r.checkCompatible(stage: "asit", architecture: "asit/micro")
        try r.loadInto(params: model, buffers: bufs)
        for (a, b) in zip(model, s.params) { XCTAssertEqual(a.tensor.array, b.tensor.array) }
        for (a, b) in zip(bufs, s.buffers) { XCTAssertEqual(a.tensor.array, b.tensor.array) }
    }

    func testKeepsNewestK() throws {
        let run = try makeTempDir(self)
        for step in [10, 20, 30, 40, 50] { try CheckpointWriter.save(sampleState(step: step), runDir: run, keep: 2) }
        let names = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").sorted()
        XCTAssertEqual(names, ["ckpt-00000040.h5", "ckpt-00000040.h5.sha256", "ckpt-00000050.h5", "ckpt-00000050.h5.sha256", "latest"])
        XCTAssertThrowsError(try CheckpointWriter.save(sampleState(step: 60), runDir: run, keep: 0))
    }

    func testFailureAtAnyPointLeavesNoPartialCheckpoint() throws {
        struct Crash: Error {}
        defer { CheckpointWriter.faultHook = nil }
        for point in CheckpointWriter.WritePoint.allCases {
            let run = try makeTempDir(self)
            try CheckpointWriter.save(sampleState(step: 1), runDir: run, keep: 5)
            CheckpointWriter.faultHook = { if $0 == point { throw Crash() } }
            XCTAssertThrowsError(try CheckpointWriter.save(sampleState(step: 2), runDir: run, keep: 5), "\(point)")
            CheckpointWriter.faultHook = nil
            let dir = run + "/checkpoints"
            let latest = try String(contentsOfFile: dir + "/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            // Whatever `latest` names, and every ckpt-*.h5 present, verifies completely.
            XCTAssertNoThrow(try CheckpointReader.load(dir + "/" + latest), "\(point)")
            for c in CheckpointFormat.listCheckpoints(in: dir) { XCTAssertNoThrow(try CheckpointReader.load(c.path), "\(point) \(c.path)") }
            let step2Exists = FileManager.default.fileExists(atPath: dir + "/ckpt-00000002.h5")
            switch point {
            case .datasetsWritten, .fileSynced, .sidecarWritten:
                XCTAssertFalse(step2Exists, "\(point)")
                XCTAssertEqual(latest, "ckpt-00000001.h5")
            case .renamed:
                XCTAssertTrue(step2Exists)
                XCTAssertEqual(latest, "ckpt-00000001.h5")
                // Auto-resume follows `latest`: one interval is lost, nothing incomplete is used.
                XCTAssertEqual(try Resume.resolve("auto", runDir: run).path, dir + "/ckpt-00000001.h5")
            case .latestUpdated:
                XCTAssertEqual(latest, "ckpt-00000002.h5")
            }
            // The failed writer cleaned its temporary file (a crash would leave it: see below).
            XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix(".ckpt-00000002.h5.tmp") }, "\(point)")
        }
    }

    func testCrashLeftoversAreIgnoredAndCleaned() throws {
        let run = try makeTempDir(self)
        try CheckpointWriter.save(sampleState(step: 5), runDir: run, keep: 3)
        let dir = run + "/checkpoints"
        // A writer killed mid-write leaves a half-written temporary file.
        let full = try Data(contentsOf: URL(fileURLWithPath: dir + "/ckpt-00000005.h5"))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: dir + "/.ckpt-00000006.h5.tmp-99999"))
        XCTAssertEqual(CheckpointFormat.listCheckpoints(in: dir).map(\.step), [5])
        XCTAssertEqual(try Resume.resolve("auto", runDir: run).path, dir + "/ckpt-00000005.h5")
        try CheckpointWriter.save(sampleState(step: 7), runDir: run, keep: 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/.ckpt-00000006.h5.tmp-99999"))
    }

    func testCorruptByteIsRefusedBeforeHDF5OpensIt() throws {
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CheckpointReader.load(path)) { e in
            let ce = e as? CheckpointError
            XCTAssertEqual(ce?.kind, .corrupt)
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("SHA-256 mismatch"), "\(e)")
        }
        // A missing sidecar is refused too.
        let run2 = try makeTempDir(self)
        let p2 = try CheckpointWriter.save(sampleState(step: 3), runDir: run2, keep: 1)
        try FileManager.default.removeItem(atPath: p2 + ".sha256")
        XCTAssertThrowsError(try CheckpointReader.load(p2)) { e in XCTAssertTrue("\(e)".contains("missing checksum file"), "\(e)") }
    }

    func testDatasetChecksumCatchesTamperingBehindTheSidecar() throws {
        // Someone edits a parameter and recomputes the sidecar: the per-dataset checksum still catches it.
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
        do {
            let f = try H5File(path: path, mode: .readWrite)
            try f.openDataset("/params/encoder.input_layer.0.bias").write([Float](repeating: 9, count: 4))
            f.close()
        }
        try (SHA256.hexHash(file: path) + "  x\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CheckpointReader.load(path)) { e in
            XCTAssertTrue("\(e)".contains("/params/encoder.input_layer.0.bias") && "\(e)".contains("checksum mismatch"), "\(e)")
        }
    }

    /// A crafted checkpoint (sidecar recomputed) whose dataset claims 2^40 or 2^62 x 2^62
    /// elements in a small file: an error naming the dataset, not an allocation trap or an
    /// overflow (found by scripts/fuzz.sh checkpoint).
    func testHugeDatasetShapeIsRefusedBeforeAllocating() throws {
        for (name, shape, chunk) in [("huge", [1 << 40], [1024]), ("overflow", [1 << 62, 1 << 62], [1, 1])] {
            let run = try makeTempDir(self, name)
            let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
            do {
                let f = try H5File(path: path, mode: .readWrite)
                try f.createDataset("/params/\(name)", of: Float.self, shape: shape, chunk: chunk, extendible: true).close()
                f.close()
            }
            try (SHA256.hexHash(file: path) + "  x\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try CheckpointReader.load(path)) { e in
                XCTAssertTrue("\(e)".contains("/params/\(name)"), "\(e)")
            }
        }
    }

    func testLoadIntoReportsEveryMismatchAtOnce() throws {
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
        let model: [(key: String, tensor: Tensor)] = [
            ("encoder.input_layer.0.weight", Tensor(zeros: [4, 3, 3, 3])),   // fine
            ("encoder.input_layer.0.bias", Tensor(zeros: [5])),              // mis-shaped
            ("decoder.style.1.weight", Tensor(zeros: [8, 4])),               // mis-shaped
            ("encoder.new_layer.weight", Tensor(zeros: [2, 2])),             // missing
            // "head.scale" not in the model: unexpected
        ]
        let untouched = model[0].tensor.array
        let r = try CheckpointReader(path: path)
        XCTAssertThrowsError(try r.loadInto(params: model, buffers: [("latent_avg", Tensor(zeros: [8])), ("empty", Tensor(zeros: [0, 3]))])) { e in
            let m = "\(e)"
            XCTAssertEqual((e as? CheckpointError)?.kind, .stateMismatch)
            for part in ["5 problems", path,
                         "mis-shaped parameter encoder.input_layer.0.bias: expected [5], found [4]",
                         "mis-shaped parameter decoder.style.1.weight: expected [8, 4], found [8, 8]",
                         "missing parameter encoder.new_layer.weight (expected shape [2, 2])",
                         "unexpected parameter head.scale (shape [])",
                         "unexpected buffer decoder.noises.noise_0 (shape [1, 1, 4, 4])"] {
                XCTAssertTrue(m.contains(part), "missing '\(part)' in:\n\(m)")
            }
        }
        // Nothing was overwritten.
        XCTAssertEqual(model[0].tensor.array, untouched)
    }

    func testNewerVersionAndOtherStageAreRefused() throws {
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 1)
        let r = try CheckpointReader(path: path)
        XCTAssertThrowsError(try r.checkCompatible(stage: "ifer")) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .incompatible)
            XCTAssertTrue("\(e)".contains("stage 'asit'") && "\(e)".contains("'ifer'"), "\(e)")
        }
        XCTAssertThrowsError(try r.checkCompatible(stage: "asit", architecture: "asit/paper")) { e in
            XCTAssertTrue("\(e)".contains("asit/micro") && "\(e)".contains("asit/paper"), "\(e)")
        }
        r.close()
        // A file from a future version (re-hashed so only the version check can refuse it).
        do {
            let f = try H5File(path: path, mode: .readWrite)
            try f.setAttribute("format_version", .int64(2))
            f.close()
        }
        try (SHA256.hexHash(file: path) + "  x\n").write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CheckpointReader.load(path)) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .incompatible)
            XCTAssertTrue("\(e)".contains("format_version 2 is newer"), "\(e)")
        }
    }

    func testInvalidKeysAreRejectedBeforeWriting() throws {
        let run = try makeTempDir(self)
        var s = sampleState(step: 1)
        s.params.append(("encoder.input_layer.0.bias", Tensor(zeros: [4])))
        XCTAssertThrowsError(try CheckpointWriter.save(s, runDir: run, keep: 1)) { e in XCTAssertTrue("\(e)".contains("duplicate parameter key")) }
        s = sampleState(step: 1)
        s.buffers.append(("../escape", Tensor(zeros: [1])))
        XCTAssertThrowsError(try CheckpointWriter.save(s, runDir: run, keep: 1))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/checkpoints/ckpt-00000001.h5"))
    }

    func testH5pySeesTheDocumentedLayout() throws {
        guard let python = h5pyPython else { throw XCTSkip("no Python with h5py (set IFER_PYTHON)") }
        let run = try makeTempDir(self)
        let path = try CheckpointWriter.save(sampleState(step: 9), runDir: run, keep: 1)
        let script = """
        import sys, hashlib, h5py, numpy as np
        path = sys.argv[1]
        f = h5py.File(path, "r")
        a = f.attrs
        assert a["format"] == "ifer-checkpoint" and int(a["format_version"]) == 1, dict(a)
        assert a["stage"] == "asit" and int(a["step"]) == 9 and int(a["epoch"]) == 0 and int(a["world_size"]) == 2
        assert a["config"].startswith("model:") and len(a["created_at"]) >= 19
        assert sorted(f.keys()) == ["buffers", "optimizer", "params", "ranks"], list(f.keys())
        w = f["params/encoder.input_layer.0.weight"]
        assert w.shape == (4, 3, 3, 3) and w.dtype == np.float32
        assert abs(float(w[0, 0, 0, 1]) - 1.25) < 1e-7
        assert f["params/head.scale"].shape == ()
        assert f["buffers/latent_avg"].shape == (8,)
        assert f["optimizer/encoder/exp_avg_sq/encoder.input_layer.0.weight"].shape == (4, 3, 3, 3)
        assert int(f["optimizer/encoder/step"][0]) == 9 and float(f["optimizer/encoder/lr"][()]) == 1e-4
        assert f["ranks/0/rng"].dtype == np.uint64 and int(f["ranks/0/rng"][1]) == 2**64 - 1
        assert list(f["ranks/1/cursor"][:]) == [7, 1] and f["ranks/1/cursor"].dtype == np.int64
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                want = obj.attrs["sha256"]
                got = hashlib.sha256(np.ascontiguousarray(obj[()]).tobytes()).hexdigest()
                assert want == got, (name, want, got)
        f.visititems(visit)
        side = open(path + ".sha256").read().split()[0]
        assert side == hashlib.sha256(open(path, "rb").read()).hexdigest()
        print("OK")
        """
        let (rc, out) = try runPython(python, script, [path])
        XCTAssertEqual(rc, 0, out)
        XCTAssertTrue(out.contains("OK"), out)
    }
}
