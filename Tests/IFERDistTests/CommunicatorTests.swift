import Foundation
import IFERTestSupport
import XCTest
@testable import IFERDist

/// The MPI communicator under real mpirun, against closed forms (CommCheck.swift).
final class CommunicatorTests: XCTestCase {
    func testSingleProcessWithoutMPI() throws {
        let r = try IferProcess.run(ranks: 0, ["dev", "allreduce-check", "--count", "1000"])
        XCTAssertEqual(r.status, 0, r.all)
        XCTAssertTrue(r.stdout.contains("comm-check ok: rank 0 of 1"), r.all)
    }

    func testCollectivesOnTwoThreeAndFourRanks() throws {
        for n in [2, 3, 4] {
            let r = try IferProcess.run(ranks: n, ["dev", "allreduce-check"], timeout: 20)
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

/// `ifer bench allreduce --json` runs under mpirun and prints the documented fields.
final class AllreduceBenchTests: XCTestCase {
    func testBenchPrintsOneJSONLinePerSize() throws {
        let r = try IferProcess.run(ranks: 2, ["bench", "allreduce", "--json", "--only", "4KB,1MB", "--reps", "3"], timeout: 30)
        XCTAssertEqual(r.status, 0, r.all)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, r.all)
        for (line, bytes) in zip(lines, [4096, 1 << 20]) {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertEqual(obj?["bytes"] as? Int, bytes)
            XCTAssertEqual(obj?["ranks"] as? Int, 2)
            for key in ["ours_ms", "mpi_ms", "bound_ms", "memcpy_gbps"] {
                XCTAssertGreaterThan((obj?[key] as? Double) ?? -1, 0, "\(key) in \(line)")
            }
        }
    }
}
