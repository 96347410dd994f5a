import ArgumentParser
import Foundation
import IFERTrain

/// `ifer dev <check>`: small programs the test suite runs under real mpirun (communicator checks,
/// data-parallel equivalence, fault injection). Hidden from the main help.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Checks that the test suite runs under mpirun.", shouldDisplay: false,
        subcommands: [DevAllreduceCheckCommand.self])
}

/// Runs `body` with the process's communicator, prints a thrown error prefixed with the rank and
/// ends every rank with status 1 (an error on one rank must not leave the others waiting).
func withCommunicator(_ body: (Communicator) throws -> Void) throws {
    let comm = makeCommunicator()
    setDefaultThreads(comm)
    do {
        try body(comm)
    } catch {
        comm.abort("error: \(error)", code: 1)
    }
    finalizeCommunicator()
}

struct DevAllreduceCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce-check", abstract: "Checks every collective against its closed form on every rank.")

    @Option(help: "Floats in the all-reduce buffer.") var count = 1_000_003

    func run() throws {
        try withCommunicator { comm in
            print(try CommCheck.run(comm, count: count))
        }
    }
}
