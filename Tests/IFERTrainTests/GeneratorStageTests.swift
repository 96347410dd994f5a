import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTrain

/// The `generator` stage (StyleGAN2 from scratch) under real mpirun on synthetic faces: finite
/// losses with both lazy regularisers, a generator that moves towards the data, sample grids,
/// exact resume, a checkpoint the `asit` stage loads as its frozen generator, and a NaN loss that
/// stops the run and keeps the last good checkpoint.
final class GeneratorStageTests: XCTestCase {
    func train(_ run: String, ranks: Int, steps: Int, _ extra: [String], expectSuccess: Bool = true) throws -> IferProcess.Output {
        // R1 every 5 and path length every 4 steps: both run before and after a resume at step 6.
        let args = ["train", "--config", TrainFixtures.config("generator"), "--run-dir", run,
                    "--set", "data.shards=\(try TrainFixtures.shards())", "--set", "train.steps=\(steps)",
                    "--set", "checkpoint.every=6", "--set", "train.eval_every=4", "--set", "log.every=1", "--set", "log.bar=off",
                    "--set", "train.latent_avg_samples=256", "--set", "gan.r1_every=5", "--set", "gan.path_every=4",
                    "--set", "dist.replica_check_every=5"] + extra
        let out = try IferProcess.run(ranks: ranks, args, timeout: 400)
        if expectSuccess { XCTAssertEqual(out.status, 0, out.all) }
        XCTAssertFalse(out.all.contains("HDF5-DIAG"), "HDF5 reported an error:\n" + out.all)
        return out
    }

    /// Values of one key of the records of `kind` (train or eval), in step order, from metrics.jsonl.
    func logged(_ run: String, _ key: String, kind: String = "train") throws -> [Double] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return r?["kind"] as? String == kind ? r?[key] as? Double : nil
        }
    }

    func testTrainsResumesExactlyAndFeedsTheAsitStage() throws {
        let base = NSTemporaryDirectory() + "ifer-generator-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        let straight = try train(base + "/straight", ranks: 2, steps: 12, ["--resume", "none"])
        XCTAssertTrue(straight.stdout.contains("final D real"), straight.all)
        for key in ["loss_d", "loss_g", "r1", "path", "path_length", "mean_path_length", "real_score", "fake_score"] {
            let v = try logged(base + "/straight", key)
            XCTAssertEqual(v.count, 12, key)
            XCTAssertTrue(v.allSatisfy(\.isFinite), "\(key): \(v)")
        }
        XCTAssertGreaterThan(try logged(base + "/straight", "r1").last!, 0)
        XCTAssertGreaterThan(try logged(base + "/straight", "mean_path_length").last!, 0)
        // g_ema moves towards the data: the distance between the mean real and mean generated image falls.
        let distance = try logged(base + "/straight", "mean_image_mse", kind: "eval")
        XCTAssertEqual(distance.count, 3)
        XCTAssertLessThan(distance.last!, distance.first!, "mean-image distance should fall: \(distance)")
        let grid = try decodeImage(path: base + "/straight/images/samples-00000012.png")
        XCTAssertEqual(grid.width, 8 * 32)
        XCTAssertEqual(grid.height, 2 * 32)

        // 6 steps, stop, resume for the other 6: the same state as 12 straight, bit for bit.
        _ = try train(base + "/split", ranks: 2, steps: 12, ["--resume", "none", "--set", "train.stop_after=6"])
        let second = try train(base + "/split", ranks: 2, steps: 12, ["--resume", "auto"])
        XCTAssertTrue(second.all.contains("resumed from"), second.all)
        let ckpt = base + "/straight/checkpoints/ckpt-00000012.h5"
        let a = try CheckpointReader.load(ckpt)
        let b = try CheckpointReader.load(base + "/split/checkpoints/ckpt-00000012.h5")
        XCTAssertEqual(a.stage, "generator")
        XCTAssertEqual(a.params.map(\.key), b.params.map(\.key))
        for prefix in ["generator.", "discriminator.", "decoder."] { XCTAssertTrue(a.params.contains { $0.key.hasPrefix(prefix) }, prefix) }
        XCTAssertTrue(a.buffers.contains { $0.key == "latent_avg" } && a.buffers.contains { $0.key.hasPrefix("decoder.noises.") })
        for (x, y) in zip(a.params + a.buffers, b.params + b.buffers) { XCTAssertEqual(x.tensor.array, y.tensor.array, x.key) }
        XCTAssertEqual(a.optimizers.map(\.name).sorted(), ["discriminator.adam", "generator.adam"])
        for (x, y) in zip(a.optimizers, b.optimizers) {
            XCTAssertEqual(x.name, y.name)
            for (p, q) in zip(x.tensors, y.tensors) { XCTAssertEqual(p.tensor.array, q.tensor.array, "\(x.name)/\(p.key)") }
        }
        // g_ema is not the training generator (it averages it), and latent_avg is not zero.
        let tensors = Dictionary(uniqueKeysWithValues: (a.params + a.buffers).map { ($0.key, $0.tensor.array) })
        XCTAssertNotEqual(tensors["decoder.conv1.conv.weight"], tensors["generator.conv1.conv.weight"])
        XCTAssertTrue(tensors["latent_avg"]!.contains { $0 != 0 })

        // The asit stage trains against it as its frozen generator: decoder.* and latent_avg as saved.
        let asit = try IferProcess.run(ranks: 0, ["train", "--config", TrainFixtures.config("asit"), "--run-dir", base + "/asit",
                                                  "--set", "data.shards=\(try TrainFixtures.shards())", "--set", "train.generator=\(ckpt)",
                                                  "--set", "train.steps=2", "--set", "train.batch_size=2", "--set", "train.eval_every=0",
                                                  "--set", "log.bar=off", "--resume", "none"], timeout: 300)
        XCTAssertEqual(asit.status, 0, asit.all)
        XCTAssertTrue(asit.all.contains("generator from \(ckpt)") && !asit.all.contains("randomly initialised"), asit.all)
        let inverted = try CheckpointReader.load(base + "/asit/checkpoints/ckpt-00000002.h5")
        var loaded = 0
        for t in inverted.params + inverted.buffers where t.key.hasPrefix("decoder.") || t.key == "latent_avg" {
            XCTAssertEqual(t.tensor.array, tensors[t.key], t.key)
            loaded += 1
        }
        XCTAssertEqual(loaded, a.params.filter { $0.key.hasPrefix("decoder.") }.count
                       + a.buffers.filter { $0.key.hasPrefix("decoder.") || $0.key == "latent_avg" }.count)
    }

    /// A NaN loss (fault injection on rank 1 at step 3) stops both ranks with a message naming
    /// the step and the rank; the checkpoint of step 2 is the newest one.
    func testNonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let run = NSTemporaryDirectory() + "ifer-generator-nan-\(getpid())"
        try? FileManager.default.removeItem(atPath: run)
        setenv("IFER_FAULT_NONFINITE", "3:1", 1)
        defer { unsetenv("IFER_FAULT_NONFINITE") }
        let out = try train(run, ranks: 2, steps: 6, ["--resume", "none", "--set", "checkpoint.every=2", "--set", "train.eval_every=0"],
                            expectSuccess: false)
        XCTAssertNotEqual(out.status, 0, out.all)
        XCTAssertTrue(out.all.contains("step 3") && out.all.contains("non-finite loss on rank 1"), out.all)
        let names = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasPrefix("ckpt-") && $0.hasSuffix(".h5") }.sorted()
        XCTAssertEqual(names.last, "ckpt-00000002.h5", "\(names)")
    }
}
