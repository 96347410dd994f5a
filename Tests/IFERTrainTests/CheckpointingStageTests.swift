import Foundation
import Logging
import XCTest
@testable import IFERTrain

/// `model.activation_checkpointing` in the stages, in process: one whole asit step of
/// configs/tiny/asit.yaml (D step and E step with drop path, distribution and adversarial losses)
/// gives the same losses, encoder and discriminator gradients with `all` as with `none`; the generator stage,
/// which differentiates its generator twice, refuses to checkpoint it.
final class CheckpointingStageTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    func driver(_ file: String, _ mode: String, _ name: String) throws -> StageDriver {
        let run = NSTemporaryDirectory() + "ifer-ckpt-stage-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: run)
        let config = try RunConfig.load(file: TrainFixtures.repo.appendingPathComponent(file).path, overrides: [
            "data.shards=\(try TrainFixtures.shards())", "train.batch_size=2", "data.prefetch=0", "log.bar=off",
            "train.latent_avg_samples=256", "model.activation_checkpointing=\(mode)"])
        var log = Logger(label: "ifer.test")
        log.logLevel = .error
        return try StageDriver(config: config, comm: SingleProcess(), runDir: run, log: log)
    }

    func testTinyASITStepGradientsAreUnchanged() throws {
        func step(_ mode: String) throws -> (losses: [LossTerm: Double], gradE: [Float], gradD: [Float], params: [Float]) {
            let d = try driver("configs/tiny/asit.yaml", mode, mode)
            _ = try d.start(resume: "none")
            let stage = try XCTUnwrap(d.stage as? InversionStage)
            XCTAssertEqual(stage.asit.encoder.checkpointBlocks, mode == "all")
            XCTAssertEqual(stage.asit.decoder.checkpointResolutions, mode == "all")
            XCTAssertEqual(stage.asit.discriminator.modelQ.checkpointBlocks, mode == "all")
            let batch = try d.trainLoader.next()
            let losses = try stage.trainStep(batch, step: 0)
            func grads(_ f: FlatBuffer) throws -> [Float] {
                Array(UnsafeBufferPointer(start: try XCTUnwrap(f.grads).base, count: f.count))
            }
            return (losses, try grads(stage.flatE), try grads(stage.flatD), stage.encoderParams.flatMap { $0.tensor.array })
        }
        let plain = try step("none"), ckpt = try step("all")
        XCTAssertEqual(Set(plain.losses.keys), [.lossD, .lossG, .l2, .dist, .adv])
        for (k, v) in plain.losses { XCTAssertEqual(ckpt.losses[k], v, "\(k): the forward is the same computation") }
        XCTAssertEqual(ckpt.gradD, plain.gradD, "discriminator gradients (its ResBlocks recomputed)")
        let scale = plain.gradE.map(abs).max() ?? 0
        XCTAssertGreaterThan(scale, 0)
        let worst = zip(ckpt.gradE, plain.gradE).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst / scale, 1e-6, "encoder gradients")
        XCTAssertEqual(ckpt.params.count, plain.params.count)
    }

    func testGeneratorStageRefusesToCheckpointTheGenerator() throws {
        XCTAssertThrowsError(try driver("configs/tiny/generator.yaml", "generator", "gen")) { e in
            XCTAssertTrue("\(e)".contains("model.activation_checkpointing"), "\(e)")
            XCTAssertTrue("\(e)".contains("R1"), "\(e)")
        }
    }
}
