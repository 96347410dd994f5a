import Foundation
import IFERDist
import XCTest
@testable import IFERCheckpoint

final class ResumeTests: XCTestCase {
    func testAutoPicksNewestValidAndWarnsAboutCorruptOne() throws {
        let run = try makeTempDir(self)
        XCTAssertEqual(try Resume.resolve("auto", runDir: run), ResumeDecision(path: nil, warnings: []))
        for step in [100, 200, 300] { try CheckpointWriter.save(sampleState(step: step), runDir: run, keep: 5) }
        let dir = run + "/checkpoints"
        XCTAssertEqual(try Resume.resolve("auto", runDir: run).path, dir + "/ckpt-00000300.h5")
        // Truncate the newest: it is skipped with a warning naming it, and 200 is used.
        let newest = dir + "/ckpt-00000300.h5"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        try bytes.prefix(100).write(to: URL(fileURLWithPath: newest))
        let d = try Resume.resolve("auto", runDir: run)
        XCTAssertEqual(d.path, dir + "/ckpt-00000200.h5")
        XCTAssertEqual(d.warnings.count, 1)
        XCTAssertTrue(d.warnings[0].contains(newest), d.warnings[0])
        // A fresh start into a folder with checkpoints would overwrite them: refused, naming the newest.
        XCTAssertThrowsError(try Resume.resolve("none", runDir: run)) { e in XCTAssertTrue("\(e)".contains("ckpt-00000300.h5"), "\(e)") }
        XCTAssertEqual(try Resume.resolve("none", runDir: run + "/fresh").path, nil)
        // An explicit path must verify; a directory behaves like auto.
        XCTAssertThrowsError(try Resume.resolve(newest, runDir: run)) { e in XCTAssertTrue("\(e)".contains(newest)) }
        XCTAssertEqual(try Resume.resolve(dir + "/ckpt-00000100.h5", runDir: "/elsewhere").path, dir + "/ckpt-00000100.h5")
        XCTAssertEqual(try Resume.resolve(run, runDir: "/elsewhere").path, dir + "/ckpt-00000200.h5")
        XCTAssertThrowsError(try Resume.resolve(run + "/nope.h5", runDir: run))
    }

    func testRewoundRunFollowsLatestNotTheHighestStep() throws {
        let run = try makeTempDir(self)
        let dir = run + "/checkpoints"
        for step in [100, 200, 300] { try CheckpointWriter.save(sampleState(step: step), runDir: run, keep: 2) }
        XCTAssertEqual(CheckpointFormat.listCheckpoints(in: dir).map(\.step), [300, 200])
        // The user resumes from 200 and the continuation saves 250: 300 is from the abandoned
        // continuation, so auto-resume must take 250, and pruning must not delete 250.
        try CheckpointWriter.save(sampleState(step: 250), runDir: run, keep: 2)
        XCTAssertEqual(CheckpointFormat.listCheckpoints(in: dir).map(\.step), [300, 250, 200])
        XCTAssertEqual(try Resume.resolve("auto", runDir: run).path, dir + "/ckpt-00000250.h5")
        // A damaged `latest` falls back to the scan, with a warning.
        try "garbage\n".write(toFile: dir + "/latest", atomically: true, encoding: .utf8)
        let d = try Resume.resolve("auto", runDir: run)
        XCTAssertEqual(d.path, dir + "/ckpt-00000300.h5")
        XCTAssertEqual(d.warnings.count, 1)
    }

    func testCollectiveSaveAndResolveOnOneProcess() throws {
        let run = try makeTempDir(self)
        let comm = SingleProcess()
        var s = sampleState(step: 8)
        s.ranks = []
        let path = try CheckpointWriter.saveCollective(s, local: RankState(rng: [9, 8, 7, 0], cursor: [3, 0]), runDir: run, keep: 2, comm: comm)
        let l = try CheckpointReader.load(path)
        XCTAssertEqual(l.worldSize, 1)
        XCTAssertEqual(l.ranks, [RankState(rng: [9, 8, 7, 0], cursor: [3, 0])])
        XCTAssertEqual(try Resume.resolveCollective("auto", runDir: run, comm: comm).path, path)
        XCTAssertThrowsError(try CheckpointWriter.saveCollective(s, local: RankState(rng: [], cursor: []), runDir: run, keep: 0, comm: comm)) { e in
            XCTAssertTrue("\(e)".contains("rank 0 failed"), "\(e)")
        }
    }
}
