import Foundation
import XCTest
@testable import IFERModels

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

final class ConfigTests: XCTestCase {
    func testEveryShippedConfigDecodes() throws {
        for name in ["micro/generator", "micro/asit", "micro/ifer", "tiny/generator", "tiny/asit", "tiny/ifer",
                     "paper/generator-ffhq256", "paper/asit-ffhq", "paper/asit-rafdb", "paper/ifer-rafdb",
                     "paper/ifer-sfew", "paper/ifer-affectnet7", "paper/ifer-affectnet8"] {
            let c = try ModelConfig(file: repoRoot.appendingPathComponent("configs/\(name).yaml").path)
            XCTAssertEqual(c.generator.nLatent, 2 * c.generator.logSize - 2, name)
        }
        let micro = try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/asit.yaml").path)
        XCTAssertEqual(micro.generator.nLatent, 8)
        XCTAssertEqual(micro.generator.nNoise, 7)
        XCTAssertEqual(micro.discriminator.outDim, 16)
        let a8 = try ModelConfig(file: repoRoot.appendingPathComponent("configs/paper/ifer-affectnet8.yaml").path)
        XCTAssertEqual(a8.iferHead.numClasses, 8)
    }

    func testOtherTopLevelSectionsAreIgnored() throws {
        let c = try ModelConfig(yaml: """
        data: {dataset: rafdb, whatever: 3}
        train: {steps: 10}
        model:
          generator: {size: 32, style_dim: 32, n_mlp: 2, channel_max: 32}
        """)
        XCTAssertEqual(c.generator.size, 32)
        XCTAssertEqual(c.generator.channels(4), 32)
    }

    private func expectError(_ yaml: String, path: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelConfig(yaml: yaml), file: file, line: line) { e in
            guard let ce = e as? ConfigError else { return XCTFail("not a ConfigError: \(e)", file: file, line: line) }
            XCTAssertEqual(ce.path, path, file: file, line: line)
            for m in mentions { XCTAssertTrue(ce.description.contains(m), "'\(ce.description)' lacks '\(m)'", file: file, line: line) }
        }
    }

    func testUnknownKeyNamesPathAndAllowedKeys() {
        expectError("model:\n  generator:\n    sise: 32\n", path: "model.generator.sise", mentions: ["unknown key", "size", "style_dim"])
        expectError("model:\n  genrator: {}\n", path: "model.genrator", mentions: ["generator", "ifer_head"])
    }

    func testWrongTypesAreErrors() {
        expectError("model:\n  generator:\n    size: big\n", path: "model.generator.size", mentions: ["integer", "big"])
        expectError("model:\n  generator:\n    lr_mlp: true\n", path: "model.generator.lr_mlp", mentions: ["number"])
        expectError("model:\n  generator: [1, 2]\n", path: "model.generator", mentions: ["mapping"])
        expectError("model:\n  discriminator:\n    momentum: 2\n", path: "model.discriminator.momentum", mentions: ["[0, 1]"])
        expectError("model:\n  generator:\n    size: 48\n", path: "model.generator.size", mentions: ["power of two"])
        expectError("model:\n  ifer_head:\n    num_classes: 1.5\n", path: "model.ifer_head.num_classes", mentions: ["integer"])
        expectError("train: {}\n", path: "model", mentions: ["missing"])
        expectError("model:\n  generator:\n    feature_resolutions: [64]\n    size: 32\n", path: "model.generator.feature_resolutions", mentions: ["64"])
    }

    func testBadYAMLIsAConfigError() {
        XCTAssertThrowsError(try ModelConfig(yaml: "model: [unclosed")) { XCTAssertTrue($0 is ConfigError) }
        XCTAssertThrowsError(try ModelConfig(file: "/nonexistent/x.yaml")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/x.yaml"))
        }
    }

    func testSmallConfigSizes() throws {
        // reference §10: micro ≈ 0.08 M generator, 0.06 M per D branch; tiny ≈ 0.40 M and 0.31 M.
        let micro = try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/asit.yaml").path)
        let tiny = try ModelConfig(file: repoRoot.appendingPathComponent("configs/tiny/asit.yaml").path)
        let gm = Generator(micro.generator).parameterCount, dm = DiscriminatorBranch(micro.discriminator).parameterCount
        let gt = Generator(tiny.generator).parameterCount, dt = DiscriminatorBranch(tiny.discriminator).parameterCount
        XCTAssertEqual(Double(gm) / 1e6, 0.08, accuracy: 0.03, "micro generator \(gm)")
        XCTAssertEqual(Double(dm) / 1e6, 0.06, accuracy: 0.03, "micro D branch \(dm)")
        XCTAssertEqual(Double(gt) / 1e6, 0.40, accuracy: 0.1, "tiny generator \(gt)")
        XCTAssertEqual(Double(dt) / 1e6, 0.31, accuracy: 0.1, "tiny D branch \(dt)")
    }
}
