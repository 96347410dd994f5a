import Foundation
import XCTest
@testable import IFERCheckpoint

/// IFER_FAULT_CHECKPOINT (FaultInjection.swift). The SIGKILL at each phase is exercised by
/// scripts/fault-tests.sh (kill_during_checkpoint) on real mpirun jobs; here: the variable's parsing.
final class FaultInjectionTests: XCTestCase {
    override func tearDown() { unsetenv(FaultInjection.checkpointVariable) }

    func testEveryWritePointHasAPhaseName() {
        let names = CheckpointWriter.WritePoint.allCases.flatMap(FaultInjection.phaseNames)
        XCTAssertEqual(names, ["after-data", "after-fsync", "after-sidecar", "after-rename", "before-latest", "after-latest"])
    }

    func testUnknownPhaseIsAnErrorNamingTheVariable() throws {
        let run = try makeTempDir(self)
        setenv(FaultInjection.checkpointVariable, "after-lunch", 1)
        XCTAssertThrowsError(try CheckpointWriter.save(sampleState(step: 3), runDir: run, keep: 2)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("IFER_FAULT_CHECKPOINT='after-lunch' is not a phase"), text)
            XCTAssertTrue(text.contains("after-data"), text)
        }
        XCTAssertTrue(CheckpointFormat.listCheckpoints(in: run + "/checkpoints").isEmpty)
    }

    func testUnsetOrEmptyWritesNormally() throws {
        let run = try makeTempDir(self)
        setenv(FaultInjection.checkpointVariable, "", 1)
        let path = try CheckpointWriter.save(sampleState(step: 4), runDir: run, keep: 2)
        XCTAssertNoThrow(try CheckpointReader.load(path))
    }
}
