import Foundation
import XCTest
@testable import IFERDist

/// The MPI communicator under real mpirun, against closed forms (CommCheck.swift).
final class CommunicatorTests: XCTestCase {
    func testSingleProcessWithoutMPI() throws {
        let r = try MPIRunner.run(ranks: 0, ["dev", "allreduce-check", "--count", "1000"])
        XCTAssertEqual(r.status, 0, r.all)
        XCTAssertTrue(r.stdout.contains("comm-check ok: rank 0 of 1"), r.all)
    }

    func testCollectivesOnTwoThreeAndFourRanks() throws {
        for n in [2, 3, 4] {
            let r = try MPIRunner.run(ranks: n, ["dev", "allreduce-check"], timeout: 20)
            XCTAssertEqual(r.status, 0, "np \(n): \(r.all)")
            for rank in 0..<n {
                XCTAssertTrue(r.stdout.contains("comm-check ok: rank \(rank) of \(n), local rank \(rank) of \(n)"), "np \(n): \(r.all)")
            }
        }
    }

    func testFactoryWithoutLauncherIsSingleProcess() {
        if !launchedUnderMPI {
            XCTAssertTrue(makeCommunicator() is SingleProcess)
        }
    }
}
