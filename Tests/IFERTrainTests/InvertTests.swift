import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTrain

/// `ifer invert` on an asit-stage checkpoint: the PNG it writes equals the reconstruction
/// computed in process from the same checkpoint; wrong stages and missing tensors are refused.
final class InvertTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A micro ASIT with seeded random weights and a computed latent_avg, saved as stage `stage`.
    func checkpoint(_ dir: String, stage: String = "asit", dropKey: String? = nil) throws -> String {
        let yaml = try String(contentsOf: root.appendingPathComponent("configs/micro/asit.yaml"), encoding: .utf8)
        let asit = try ASIT(try ModelConfig(yaml: yaml))
        asit.resetNetworks(seed: 3)
        var rng = Philox(seed: 4)
        try asit.computeLatentAvg(samples: 256, rng: &rng)
        let params = asit.namedParameters().filter { $0.0 != dropKey }.map { (key: $0.0, tensor: $0.1) }
        let state = CheckpointState(stage: stage, step: 0, epoch: 0, worldSize: 1, config: yaml, params: params,
                                    buffers: asit.namedBuffers().map { (key: $0.0, tensor: $0.1) })
        return try CheckpointWriter.save(state, runDir: dir, keep: 1)
    }

    func testInvertWritesTheReconstruction() throws {
        let dir = NSTemporaryDirectory() + "ifer-invert-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ckpt = try checkpoint(dir)
        // A 48x40 input: the centre 40x40 square is resampled to the encoder's 32 px.
        var pixels = [UInt8](repeating: 0, count: 48 * 40 * 3)
        for i in 0..<pixels.count { pixels[i] = UInt8((i * 37 + i / 144 * 11) % 256) }
        let input = dir + "/face.png"
        try writePNG(RGBImage(width: 48, height: 40, pixels: pixels), path: input)

        let out = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, input, dir + "/out.png"])
        XCTAssertEqual(out.status, 0, out.all)
        let written = try decodeImage(path: dir + "/out.png")
        XCTAssertEqual([written.width, written.height], [32, 32])
        let inverter = try TrainedInverter.load(ckpt)
        let expected = rgbImage(try inverter.invert(try faceImageTensor(input, side: 32)))
        XCTAssertEqual(written.pixels, expected.pixels)
        XCTAssertGreaterThan(Set(expected.pixels).count, 16, "the reconstruction is not a flat image")

        let pair = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, "--pair", input, dir + "/pair.png"])
        XCTAssertEqual(pair.status, 0, pair.all)
        XCTAssertEqual(try decodeImage(path: dir + "/pair.png").width, 64)
    }

    func testWrongStageAndMissingTensorsAreRefused() throws {
        let dir = NSTemporaryDirectory() + "ifer-invert-bad-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        for (name, stage, drop, message) in [("stage", "ifer", nil, "stage 'ifer'"),
                                             ("missing", "asit", "encoder.patch_embed.proj.weight", "missing parameter encoder.patch_embed.proj.weight")] {
            let sub = dir + "/" + name
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let ckpt = try checkpoint(sub, stage: stage, dropKey: drop)
            XCTAssertThrowsError(try TrainedInverter.load(ckpt)) { error in
                XCTAssertTrue("\(error)".contains(message) && "\(error)".contains(ckpt), "\(error)")
            }
        }
    }
}
