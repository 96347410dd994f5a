import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTools

/// `ifer bench step --config FILE`, the stage step that scripts/bench/compare_model_step.py times
/// against the PyTorch reference: for the generator stage it runs the real step and counts its
/// FLOPs from the config's own networks (4G + 8D forward MACs per image, 2 FLOPs each).
final class StageStepBenchTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testGeneratorStageStepPrintsItsLine() throws {
        let config = root.appendingPathComponent("configs/micro/generator.yaml").path
        let out = try IferProcess.run(ranks: 0, ["bench", "step", "--config", config, "--batch", "4", "--threads", "1",
                                                 "--min-time", "0", "--warmup", "0", "--reps", "1", "--json"], timeout: 120)
        XCTAssertEqual(out.status, 0, out.all)
        let rows = out.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(rows.count, 1, out.all)
        let row = try XCTUnwrap(rows.first)
        XCTAssertEqual(row["case"] as? String, "generator_step_b4")
        XCTAssertEqual(row["stage"] as? String, "generator")
        XCTAssertEqual(row["threads"] as? Int, 1)
        XCTAssertEqual(row["reps"] as? Int, 1)
        let ms = try XCTUnwrap(row["ms"] as? Double), rate = try XCTUnwrap(row["images_per_s"] as? Double)
        XCTAssertGreaterThan(ms, 0)
        XCTAssertEqual(rate, 4 / (ms * 1e-3), accuracy: 1e-3 * rate)

        let nets = try ModelInventory.networks(try ModelConfig(file: config))
        let g = try XCTUnwrap(nets.first { $0.name == "generator" }).macs, d = try XCTUnwrap(nets.first { $0.name == "discriminator" }).macs
        XCTAssertEqual(row["step_flops"] as? Int, 2 * 4 * (4 * g + 8 * d))
    }
}
