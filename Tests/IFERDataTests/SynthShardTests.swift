import Foundation
import IFERDist
import XCTest
@testable import IFERData

/// Every layout as `ifer synth` writes it, read back through the layout scanners and shards:
/// counts per split, canonical labels per source file, and nothing skipped that should not be.
final class SynthShardTests: XCTestCase {
    func synth(_ layout: SynthLayout, count: Int = 35, resolution: Int = 40) throws -> (String, SynthResult) {
        let root = try makeTempDir(self, "synth-\(layout.rawValue)")
        let r = try SynthWriter.write(SynthOptions(layout: layout, count: count, resolution: resolution, seed: 3, jobs: 2),
                                      to: URL(fileURLWithPath: root), encoder: IFERIOSynthEncoder())
        return (root, r)
    }

    /// Shards `root` and checks the shards hold exactly `expected` (source -> (split, label)).
    func check(_ kind: DatasetKind, root: String, expected: [String: (String, Int)], skipped: Int = 0) throws {
        let out = try makeTempDir(self, "synth-out-\(kind.rawValue)")
        let m = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: kind, root: root, out: out, resolution: 32,
                                                                shardSizeMB: 4.0 * 32 * 32 * 3 / 1_048_576), comm: SingleProcess()).manifest)
        XCTAssertEqual(m.skipped.count, skipped, "\(kind): \(m.skipped)")
        var found: [String: (String, Int)] = [:]
        for split in Set(m.shards.map(\.split)) {
            let ds = try ShardDataset(path: out, split: split)
            for i in 0..<ds.count { found[try ds.source(of: i)] = (split, ds.labels[i]) }
        }
        XCTAssertEqual(found.count, expected.count, "\(kind)")
        for (src, want) in expected {
            guard let got = found[src] else { XCTFail("\(kind): \(src) not in the shards"); continue }
            XCTAssertEqual(got.0, want.0, "\(kind) \(src) split")
            XCTAssertEqual(got.1, want.1, "\(kind) \(src) label")
        }
        let total = expected.count
        XCTAssertEqual(m.counts.values.reduce(0, +), total)
        if !m.classNames.isEmpty {
            XCTAssertEqual(m.classCounts.values.map { $0.reduce(0, +) }.reduce(0, +), total)
            XCTAssertTrue(m.classCounts["train"]!.allSatisfy { $0 > 0 }, "every class present: \(m.classCounts)")
        }
    }

    func testFFHQ() throws {
        let (root, r) = try synth(.ffhq)
        let exp = Dictionary(uniqueKeysWithValues: r.items.map { ($0.path, ($0.split == "validation" ? "test" : "train", -1)) })
        XCTAssertTrue(exp.values.contains { $0.0 == "test" }, "synth writes a validation part")
        try check(.ffhq, root: root, expected: exp)
        // The same files as a plain folder: everything in "train", paths relative to the root.
        try check(.folder, root: root, expected: Dictionary(uniqueKeysWithValues: r.items.map { ($0.path, ("train", -1)) }))
    }

    func testCelebAHQ() throws {
        let (root, r) = try synth(.celebahq)
        try check(.celebahq, root: root, expected: Dictionary(uniqueKeysWithValues: r.items.map { ($0.path, ($0.split, -1)) }))
    }

    func testAffectNet() throws {
        // Face boxes cover about half the picture: render large enough for 32 px face crops.
        let (root, r) = try synth(.affectnet, count: 42, resolution: 80)
        let kept = r.items.filter { ($0.label ?? 99) < 7 }
        XCTAssertLessThan(kept.count, r.items.count, "synth writes None / Uncertain / No-Face rows to filter out")
        try check(.affectnet, root: root,
                  expected: Dictionary(uniqueKeysWithValues: kept.map { ("Manually_Annotated_Images/" + $0.path.replacingOccurrences(of: "Manually_Annotated_Images/", with: ""),
                                                                          ($0.split == "validation" ? "test" : "train", $0.label!)) }),
                  skipped: r.items.count - kept.count)
    }

    func testRAFDB() throws {
        let (root, r) = try synth(.rafdb)
        try check(.rafdb, root: root, expected: Dictionary(uniqueKeysWithValues: r.items.map { ($0.path, ($0.split, $0.label! - 1)) }))
    }

    func testSFEW() throws {
        let (root, r) = try synth(.sfew)
        try check(.sfew, root: root,
                  expected: Dictionary(uniqueKeysWithValues: r.items.map { ($0.path, ($0.split == "Val" ? "test" : "train", $0.label!)) }))
    }
}
