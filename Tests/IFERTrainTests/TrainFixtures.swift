import Foundation
import IFERTestSupport
import XCTest

/// Data and configs the training tests share.
enum TrainFixtures {
    static var data: String?

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func config(_ name: String) -> String { repo.appendingPathComponent("configs/micro/\(name).yaml").path }

    /// Renders and shards a small RAF-DB-layout dataset (140 faces, 32 px) once per test process.
    static func shards() throws -> String {
        if let d = data { return d }
        let root = NSTemporaryDirectory() + "ifer-train-tests-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let synth = try IferProcess.run(ranks: 0, ["synth", "--layout", "rafdb", "--out", root + "/raw", "--count", "140", "--resolution", "32"])
        XCTAssertEqual(synth.status, 0, synth.all)
        let shard = try IferProcess.run(ranks: 2, ["shard", "--dataset", "rafdb", "--root", root + "/raw", "--out", root + "/shards", "--resolution", "32"])
        XCTAssertEqual(shard.status, 0, shard.all)
        data = root + "/shards"
        return root + "/shards"
    }
}
