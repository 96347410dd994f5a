import Foundation
import IFERTensor
import IFERTestSupport
import XCTest
@testable import IFERDist

/// Data-parallel training under real mpirun (DDPCheck.swift): equivalence with one process,
/// determinism, replica check, watchdog and dead ranks.
final class DataParallelTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try makeTempDir(self, "dist") }

    /// Runs the check and returns rank 0's final parameters.
    func train(ranks: Int, _ args: [String], name: String) throws -> [Float] {
        let out = dir + "/" + name
        // Small buckets (64 floats) so the model spans several buckets and exercises their ordering.
        let r = try IferProcess.run(ranks: ranks, ["dev", "ddp-equivalence", "--bucket-bytes", "256", "--out", out] + args, timeout: 30)
        XCTAssertEqual(r.status, 0, "np \(ranks) \(args): \(r.all)")
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, n = 0.0
        for (x, y) in zip(a, b) { d += Double(x - y) * Double(x - y); n += Double(x) * Double(x) }
        return (d / n).squareRoot()
    }

    func testTwoRanksMatchOneProcess() throws {
        let one = try train(ranks: 0, ["--global-batch", "8"], name: "one")
        let two = try train(ranks: 2, ["--global-batch", "8"], name: "two")
        XCTAssertEqual(one.count, two.count)
        XCTAssertLessThan(relativeDifference(one, two), 1e-5)
        // The parameters moved: the test would pass trivially if training did nothing.
        let still = try train(ranks: 0, ["--global-batch", "8", "--steps", "1"], name: "one-step")
        XCTAssertGreaterThan(relativeDifference(one, still), 1e-3)
    }

    func testAccumulationOnTwoRanksMatchesOneProcess() throws {
        let one = try train(ranks: 0, ["--global-batch", "8"], name: "one")
        let acc = try train(ranks: 2, ["--global-batch", "8", "--accum", "2"], name: "acc")
        XCTAssertLessThan(relativeDifference(one, acc), 1e-5)
        // The other averaging mode: sum, then scale each bucket.
        let after = try train(ranks: 2, ["--global-batch", "8", "--accum", "2", "--average-after-reduce"], name: "after")
        XCTAssertLessThan(relativeDifference(one, after), 1e-5)
    }

    func testThreeAndFourRanksMatchOneProcess() throws {
        let one12 = try train(ranks: 0, ["--global-batch", "12"], name: "one12")
        let three = try train(ranks: 3, ["--global-batch", "12"], name: "three")
        XCTAssertLessThan(relativeDifference(one12, three), 1e-5)
        let one8 = try train(ranks: 0, ["--global-batch", "8"], name: "one8")
        let four = try train(ranks: 4, ["--global-batch", "8"], name: "four")
        XCTAssertLessThan(relativeDifference(one8, four), 1e-5)
    }

    func testRepeatRunsAreBitIdentical() throws {
        let a = try train(ranks: 2, [], name: "a"), b = try train(ranks: 2, [], name: "b")
        XCTAssertEqual(a, b)
        let c = try train(ranks: 3, ["--global-batch", "6"], name: "c"), d = try train(ranks: 3, ["--global-batch", "6"], name: "d")
        XCTAssertEqual(c, d)
    }

    func testReplicaCheckNamesRanksAndTensor() throws {
        let r = try IferProcess.run(ranks: 2, ["dev", "ddp-equivalence", "--fault", "mismatch", "--fault-step", "2", "--check-every", "2"], timeout: 20)
        XCTAssertNotEqual(r.status, 0, r.all)
        XCTAssertTrue(r.stderr.contains("replica check failed at step 3: rank 1 differs from rank 0; first differing tensor: 'fc2.weight'"), r.all)
    }

    func testWatchdogEndsJobWithStoppedRank() throws {
        let r = try IferProcess.run(ranks: 2, ["dev", "hang", "--mode", "stop", "--rank", "1", "--at-step", "2", "--timeout", "3", "--steps", "6"], timeout: 25)
        XCTAssertEqual(r.status, Watchdog.exitCode, r.all)
        XCTAssertTrue(r.stderr.contains("watchdog: rank 0 waited"), r.all)
        XCTAssertTrue(r.stderr.contains("in MPI_Allreduce"), r.all)
        XCTAssertTrue(r.stderr.contains("at step 2"), r.all)
        XCTAssertLessThan(r.seconds, 15)
    }

    func testWatchdogEndsJobWithSleepingRankOnFourRanks() throws {
        let r = try IferProcess.run(ranks: 4, ["dev", "hang", "--mode", "sleep", "--rank", "2", "--at-step", "1", "--timeout", "3", "--steps", "4"], timeout: 25)
        XCTAssertEqual(r.status, Watchdog.exitCode, r.all)
        XCTAssertTrue(r.stderr.contains("waited") && r.stderr.contains("at step 1"), r.all)
        XCTAssertLessThan(r.seconds, 15)
    }

    func testStepTimeoutNamesTheSlowRank() throws {
        // No collective timeout: rank 1 sleeps outside any collective; its own step timer (or rank 0's,
        // waiting in the all-reduce, whichever fires first) ends the job.
        let r = try IferProcess.run(ranks: 2, ["dev", "hang", "--mode", "sleep", "--rank", "1", "--at-step", "2", "--step-timeout", "3", "--steps", "6"], timeout: 25)
        XCTAssertEqual(r.status, Watchdog.exitCode, r.all)
        XCTAssertTrue(r.stderr.contains("spent") && r.stderr.contains("in step 2, now in") && r.stderr.contains("step timeout 3.0 s"), r.all)
        XCTAssertLessThan(r.seconds, 15)
    }

    func testKilledRankEndsJobPromptly() throws {
        let r = try IferProcess.run(ranks: 2, ["dev", "crash", "--rank", "1", "--at-step", "2", "--steps", "6"], timeout: 25)
        XCTAssertNotEqual(r.status, 0, r.all)
        XCTAssertTrue(r.stderr.contains("SIGKILL at step 2"), r.all)
        XCTAssertLessThan(r.seconds, 10)
    }
}

/// DataParallel pieces that need no second rank.
final class DataParallelUnitTests: XCTestCase {
    func testBucketsCoverTheBufferInReverseOrder() throws {
        let shapes = [[100], [10], [300], [5], [70]]
        let ts = shapes.enumerated().map { i, s -> Tensor in
            let t = Tensor(zeros: s); t.kind = .parameter; t.requiresGrad = true; t.name = "p\(i)"; return t
        }
        let flat = FlatBuffer(ts, withGradients: true)
        let dp = try DataParallel(flat, comm: SingleProcess(), bucketBytes: 128 * 4)
        // Padded sizes 112, 16, 304, 16, 80 in reverse: [80+16] [304] [16+112]
        XCTAssertEqual(dp.buckets.map(\.tensors), [3...4, 2...2, 0...1])
        XCTAssertEqual(dp.buckets.first?.range.upperBound, flat.count)
        XCTAssertEqual(dp.buckets.last?.range.lowerBound, 0)
        for (a, b) in zip(dp.buckets, dp.buckets.dropFirst()) { XCTAssertEqual(b.range.upperBound, a.range.lowerBound) }
        XCTAssertThrowsError(try DataParallel(FlatBuffer(ts, withGradients: false), comm: SingleProcess()))
    }

    func testReplicaHashSeesOneBit() {
        let t = Tensor(filled: 1, shape: [1001])
        let h = ReplicaCheck.hash(t)
        t.ptr[1000] = t.ptr[1000].nextUp
        XCTAssertNotEqual(ReplicaCheck.hash(t), h)
    }
}
