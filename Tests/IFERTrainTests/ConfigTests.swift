import XCTest
@testable import IFERTrain

final class ConfigTests: XCTestCase {
    let base = """
    model:
      ifer_head:
        num_classes: 7
    data:
      shards: runs/data
    train:
      steps: 12
      batch_size: 8
    optim:
      lr: 0.001
      betas: [0.9, 0.99]
    """

    func testDefaultsAndOverrides() throws {
        let c = try RunConfig.parse(base, source: "t.yaml", overrides: ["train.seed=7", "data.augment=false", "checkpoint.keep=2"])
        XCTAssertEqual(c.train.steps, 12); XCTAssertEqual(c.train.seed, 7); XCTAssertFalse(c.data.augment)
        XCTAssertEqual(c.checkpoint.keep, 2); XCTAssertEqual(c.optim.betas, [0.9, 0.99])
        // The resolved YAML parses back to the same config.
        let again = try RunConfig.parse(c.resolvedYAML, source: "resolved")
        XCTAssertEqual(again.tree, c.tree)
    }

    /// Every config the repository ships is a valid run config (strict keys) and model config;
    /// those with a run section name a stage the trainer knows.
    func testEveryShippedConfigParses() throws {
        let dir = TrainFixtures.repo.appendingPathComponent("configs")
        var seen = 0
        for sub in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let folder = dir.appendingPathComponent(sub)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { continue }
            for f in files where f.hasSuffix(".yaml") {
                let path = folder.appendingPathComponent(f).path
                let c = try RunConfig.load(file: path)
                XCTAssertNoThrow(try ModelConfig(yaml: c.resolvedYAML), path)
                XCTAssertTrue(["ifer", "asit", "generator"].contains(c.train.stage), path)
                seen += 1
            }
        }
        XCTAssertGreaterThanOrEqual(seen, 13)
    }

    func testUnknownKeyNamesPathAndAllowedKeys() {
        XCTAssertThrowsError(try RunConfig.parse(base + "\n  stpes: 3", source: "t.yaml")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("optim.stpes") && s.contains("lr") && s.contains("weight_decay"), s)
        }
        XCTAssertThrowsError(try RunConfig.parse(base, source: "t.yaml", overrides: ["trian.steps=3"])) { e in
            XCTAssertTrue("\(e)".contains("trian.steps") && "\(e)".contains("checkpoint"), "\(e)")
        }
    }

    func testWrongTypeNamesPath() {
        XCTAssertThrowsError(try RunConfig.parse(base, source: "t.yaml", overrides: ["train.batch_size=eight"])) { e in
            XCTAssertTrue("\(e)".contains("train.batch_size") && "\(e)".contains("integer"), "\(e)")
        }
        XCTAssertThrowsError(try RunConfig.parse(base, source: "t.yaml", overrides: ["data.augment=maybe"])) { e in
            XCTAssertTrue("\(e)".contains("data.augment"), "\(e)")
        }
    }

    func testRandAugmentSpec() throws {
        let c = try RunConfig.parse(base, source: "t.yaml", overrides: ["data.randaugment=rand-m9-mstd0.5-inc1"])
        XCTAssertEqual(c.data.randAugment, try RandAugment(spec: "rand-m9-mstd0.5-inc1"))
        XCTAssertNil(try RunConfig.parse(base, source: "t.yaml").data.randAugment)
        XCTAssertThrowsError(try RunConfig.parse(base, source: "t.yaml", overrides: ["data.randaugment=rand-m12"])) { e in
            XCTAssertTrue("\(e)".contains("data.randaugment") && "\(e)".contains("rand-m12"), "\(e)")
        }
    }
}
