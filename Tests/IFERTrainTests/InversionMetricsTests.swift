import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTrain

/// MSE / PSNR / SSIM against scikit-image (scripts/golden/image_quality.py), and `ifer eval` on
/// an asit checkpoint: the same record as one process and under mpirun -np 2, equal to the
/// in-process evaluation, with both baselines.
final class InversionMetricsTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testMetricsMatchScikitImage() throws {
        let url = root.appendingPathComponent("Tests/IFERTrainTests/Fixtures/image_quality.json")
        let doc = try JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as? [String: Any]
        let cases = try XCTUnwrap(doc?["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let shape = try XCTUnwrap(c["shape"] as? [Int])
            let a = try Tensor(try XCTUnwrap(c["a"] as? [Double]).map(Float.init), shape: [1] + shape)
            let b = try Tensor(try XCTUnwrap(c["b"] as? [Double]).map(Float.init), shape: [1] + shape)
            let q = try ImageQuality.of(a, 0, b, 0)
            let mse = try XCTUnwrap(c["mse"] as? Double), psnr = try XCTUnwrap(c["psnr"] as? Double)
            let ssim = try XCTUnwrap(c["ssim"] as? Double)
            XCTAssertEqual(q.mse, mse, accuracy: mse * 1e-9 + 1e-12, name)
            XCTAssertEqual(q.psnr, psnr, accuracy: 1e-7, name)
            XCTAssertEqual(q.ssim, ssim, accuracy: 1e-9, name)
        }
        // Identical images: MSE 0, PSNR at its cap, SSIM 1.
        let a = try Tensor((0..<432).map { Float($0 % 17) / 8 - 1 }, shape: [1, 3, 12, 12])
        let same = try ImageQuality.of(a, 0, a, 0)
        XCTAssertEqual(same.mse, 0)
        XCTAssertEqual(same.psnr, ImageQuality.maxPSNR)
        XCTAssertEqual(same.ssim, 1, accuracy: 1e-12)
        XCTAssertThrowsError(try ImageQuality.of(Tensor(zeros: [1, 3, 8, 8]), 0, Tensor(zeros: [1, 3, 8, 8]), 0))
    }

    /// A micro ASIT (seeded weights, computed latent_avg) whose encoder differs from the
    /// config's random init, saved as an asit-stage checkpoint with the micro run config.
    func checkpoint(_ dir: String, stage: String = "asit") throws -> String {
        let yaml = try String(contentsOf: root.appendingPathComponent("configs/micro/asit.yaml"), encoding: .utf8)
        let asit = try ASIT(try ModelConfig(yaml: yaml))
        asit.resetNetworks(seed: 3)
        var rng = Philox(seed: 4)
        try asit.computeLatentAvg(samples: 256, rng: &rng)
        let state = CheckpointState(stage: stage, step: 7, epoch: 0, worldSize: 1, config: yaml,
                                    params: asit.namedParameters().map { (key: $0.0, tensor: $0.1) },
                                    buffers: asit.namedBuffers().map { (key: $0.0, tensor: $0.1) })
        return try CheckpointWriter.save(state, runDir: dir, keep: 1)
    }

    func testEvalOnAnAsitCheckpoint() throws {
        let shards = try TrainFixtures.shards()
        let dir = NSTemporaryDirectory() + "ifer-eval-asit-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ckpt = try checkpoint(dir)

        var records: [[String: Any]] = []
        for ranks in [0, 2] {
            let out = try IferProcess.run(ranks: ranks, ["eval", "--checkpoint", dir, "--shards", shards, "--split", "test",
                                                         "--batch", "8", "--json", "--out", dir + "/eval-\(ranks)"])
            XCTAssertEqual(out.status, 0, out.all)
            let line = try XCTUnwrap(out.stdout.split(separator: "\n").last, out.all)
            records.append(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], out.all))
            let grid = try decodeImage(path: dir + "/eval-\(ranks)/grid.png")
            XCTAssertEqual(grid.height, 4 * 32 + 3 * 2, "rows: source, reconstruction, untrained, mean face")
        }
        let keys = ["mse", "psnr", "ssim", "mse_untrained", "psnr_untrained", "ssim_untrained",
                    "mse_mean_face", "psnr_mean_face", "ssim_mean_face"]
        for k in keys {
            let one = try XCTUnwrap(records[0][k] as? Double, k), two = try XCTUnwrap(records[1][k] as? Double, k)
            XCTAssertEqual(one, two, accuracy: abs(one) * 1e-5 + 1e-9, "\(k): 1 rank vs 2 ranks (batch composition may move the last float bits)")
        }
        XCTAssertEqual(records[0]["images"] as? Double, records[1]["images"] as? Double)
        XCTAssertGreaterThan(try XCTUnwrap(records[0]["seconds_per_image"] as? Double), 0)
        XCTAssertEqual(records[0]["step"] as? Int, 7)

        // The same numbers in process.
        let inverter = try TrainedInverter.load(ckpt)
        let untrained = try inverter.untrainedTwin(seed: 0)   // configs/micro/asit.yaml: train.seed 0
        let loader = try Loader(path: shards, split: "test", batchSize: 8, seed: 0, rank: 0, worldSize: 1, training: false,
                                augmentation: Augmentation(outputSize: 32), prefetch: 1)
        defer { loader.stop() }
        let e = try evaluateInversion(trained: inverter.asit, untrained: untrained, lpips: nil, loader: loader, comm: SingleProcess())
        let m = e.record(withLPIPS: false)
        XCTAssertEqual(m["images"], records[0]["images"] as? Double)
        for k in keys {
            let here = try XCTUnwrap(m[k], k)
            // The CLI sets its own BLAS thread count, which moves the last float bits (~1e-8).
            XCTAssertEqual(here, try XCTUnwrap(records[0][k] as? Double), accuracy: abs(here) * 1e-5 + 1e-9, k)
        }
        // The baselines are different models: the untrained encoder is the config's init, not the checkpoint's.
        XCTAssertNotEqual(m["mse"], m["mse_untrained"])
        let fresh = try ASIT(try ModelConfig(yaml: inverter.header.config))
        fresh.resetNetworks(seed: 0)
        for ((k, a), (_, b)) in zip(fresh.encoder.namedParameters(), untrained.encoder.namedParameters()) {
            XCTAssertEqual(a.array, b.array, k)
        }

        // A checkpoint of another stage is refused, naming the file and its stage.
        let other = dir + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let wrong = try checkpoint(other, stage: "generator")
        let refused = try IferProcess.run(ranks: 0, ["eval", "--checkpoint", wrong, "--shards", shards])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(wrong) && refused.stderr.contains("stage 'generator'"), refused.all)
    }
}
