import Foundation
import IFERTensor
import Logging
import XCTest
@testable import IFERDist

/// In-process tests of the pieces that need no second rank.
final class DistUnitTests: XCTestCase {
    func testRankLogHandlerDropsInfoOnOtherRanks() {
        let r0 = RankLogHandler(label: "t", rank: 0), r1 = RankLogHandler(label: "t", rank: 1)
        XCTAssertTrue(r0.shouldPrint(.info))
        XCTAssertFalse(r1.shouldPrint(.info))
        XCTAssertTrue(r1.shouldPrint(.warning))
        XCTAssertTrue(r1.shouldPrint(.error))
        XCTAssertFalse(r0.shouldPrint(.debug))
        XCTAssertEqual(RankLogHandler.format(rank: 1, level: .warning, message: "slow step", metadata: ["step": "3"]),
                       "[rank 1] warning: slow step step=3\n")
    }

    func testSampleKeysDoNotDependOnTheRankSplit() throws {
        // Global batch 8: one rank holds all, or two ranks hold 4 each; sample 21 draws the same numbers.
        let all = try SampleKeys.localIndices(batchStart: 16, globalBatch: 8, rank: 0, worldSize: 1)
        let second = try SampleKeys.localIndices(batchStart: 16, globalBatch: 8, rank: 1, worldSize: 2)
        XCTAssertEqual(all, Array(16..<24))
        XCTAssertEqual(second, Array(20..<24))
        var a = SampleKeys.rngs(seed: 7, purpose: "noise", step: 2, globalIndices: all)
        var b = SampleKeys.rngs(seed: 7, purpose: "noise", step: 2, globalIndices: second)
        XCTAssertEqual(a[5].next(), b[1].next())
        // Different purpose, step or sample give different streams.
        var c = SampleKeys.rng(seed: 7, purpose: "dropout", step: 2, globalIndex: 21)
        var d = SampleKeys.rng(seed: 7, purpose: "noise", step: 3, globalIndex: 21)
        var e = SampleKeys.rng(seed: 7, purpose: "noise", step: 2, globalIndex: 22)
        var f = SampleKeys.rng(seed: 7, purpose: "noise", step: 2, globalIndex: 21)
        let x = f.next()
        XCTAssertNotEqual(c.next(), x); XCTAssertNotEqual(d.next(), x); XCTAssertNotEqual(e.next(), x)
        XCTAssertThrowsError(try SampleKeys.localIndices(batchStart: 0, globalBatch: 8, rank: 0, worldSize: 3))
    }

    func testWatchdogReportsStepOpAndRank() {
        let fired = expectation(description: "timeout")
        var message = ""
        let w = Watchdog(rank: 3, collectiveTimeout: 0.2) { m in message = m; fired.fulfill() }
        w.beginStep(7)
        _ = w.enter("MPI_Allreduce(262144 floats)")
        wait(for: [fired], timeout: 5)
        XCTAssertTrue(message.contains("rank 3"), message)
        XCTAssertTrue(message.contains("step 7"), message)
        XCTAssertTrue(message.contains("MPI_Allreduce(262144 floats)"), message)
    }

    func testWatchdogStepTimeoutAndQuietWhenOperationsFinish() {
        var fired = 0
        let w = Watchdog(rank: 0, collectiveTimeout: 1.5) { _ in fired += 1 }
        w.beginStep(0)
        for _ in 0..<10 { w.watch("short op") { Thread.sleep(forTimeInterval: 0.05) } }
        XCTAssertEqual(fired, 0)
        w.stop()

        let slow = expectation(description: "step timeout")
        var message = ""
        let s = Watchdog(rank: 1, collectiveTimeout: 0, stepTimeout: 0.2) { m in message = m; slow.fulfill() }
        s.beginStep(4)
        wait(for: [slow], timeout: 5)
        XCTAssertTrue(message.contains("step 4") && message.contains("rank 1") && message.contains("step timeout"), message)
    }
}
