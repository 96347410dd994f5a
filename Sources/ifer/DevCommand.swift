import ArgumentParser
import IFERTrain

/// `ifer dev <check>`: small programs the test suite runs under real mpirun (communicator checks,
/// data-parallel equivalence, fault injection). Hidden from the main help.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Checks that the test suite runs under mpirun.", shouldDisplay: false,
        subcommands: [])
}
