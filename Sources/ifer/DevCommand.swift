import ArgumentParser
import Foundation
import IFERTools

/// `ifer dev <check>`: small programs the test suite runs under real mpirun (communicator checks,
/// data-parallel equivalence, fault injection). Hidden from the main help.
struct DevCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Checks that the test suite runs under mpirun.", shouldDisplay: false,
        subcommands: [DevAllreduceCheckCommand.self, DevDDPEquivalenceCommand.self, DevHangCommand.self, DevCrashCommand.self])
}

/// Runs `body` with the process's communicator, prints a thrown error prefixed with the rank and
/// ends every rank with status 1 (an error on one rank must not leave the others waiting).
func withCommunicator(_ body: (Communicator) throws -> Void) throws {
    let comm = makeCommunicator()
    setDefaultThreads(comm)
    do {
        try body(comm)
    } catch {
        // When every rank fails together (a replica-check verdict) let rank 0's abort end the job:
        // two simultaneous MPI_Aborts make Open MPI print internal errors on top of ours.
        if comm.rank > 0 {
            FileHandle.standardError.write(Data("[rank \(comm.rank)] error: \(error)\n".utf8))
            Thread.sleep(forTimeInterval: 1)
        }
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

/// Options of the data-parallel check (DDPCheck.swift) shared by the fault-injection commands.
struct DDPCheckOptions: ParsableArguments {
    @Option(help: "Optimizer steps.") var steps = 5
    @Option(help: "Samples per step over all ranks.") var globalBatch = 8
    @Option(help: "Micro-batches per step on each rank (gradient accumulation).") var accum = 1
    @Option(help: "Seed of data, noise and initialization.") var seed: UInt64 = 1234
    @Option(help: "Gradient bucket size in bytes.") var bucketBytes = 1 << 20
    @Option(help: "Replica check every N steps (0 = never).") var checkEvery = 1
    @Option(help: "Hidden width of the MLP.") var hidden = 32
    @Option(help: "Watchdog: seconds one collective may take (0 = off).") var timeout = 0.0
    @Option(help: "Watchdog: seconds one step may take (0 = off).") var stepTimeout = 0.0
    @Option(help: "Rank 0 writes the final parameters here (float32, little-endian).") var out: String?
    @Flag(help: "Average by scaling after the all-reduce instead of seeding backward with 1/worldSize.") var averageAfterReduce = false

    func options(fault: String?, rank: Int, step: Int) -> DDPCheck.Options {
        var o = DDPCheck.Options()
        o.steps = steps; o.globalBatch = globalBatch; o.accumulation = accum; o.seed = seed
        o.bucketBytes = bucketBytes; o.checkEvery = checkEvery; o.hidden = hidden
        o.collectiveTimeout = timeout; o.stepTimeout = stepTimeout
        o.fault = fault; o.faultRank = rank; o.faultStep = step
        o.averageAfterReduce = averageAfterReduce
        return o
    }

    func run(fault: String?, rank: Int, step: Int) throws {
        try withCommunicator { comm in
            let r = try DDPCheck.run(comm, options(fault: fault, rank: rank, step: step))
            guard comm.isRoot else { return }
            if let path = out {
                let data = r.parameters.withUnsafeBufferPointer { Data(buffer: $0) }
                do { try data.write(to: URL(fileURLWithPath: path)) } catch {
                    throw ValidationError("cannot write \(path): \(error)")
                }
            }
            let losses = r.losses.map { String(format: "%.6f", $0) }.joined(separator: ",")
            print("{\"ranks\":\(comm.worldSize),\"steps\":\(steps),\"hash\":\"\(String(r.hash, radix: 16))\",\"losses\":[\(losses)]}")
        }
    }
}

struct DevDDPEquivalenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddp-equivalence", abstract: "Trains a small MLP data-parallel; rank 0 writes the final parameters.")
    @OptionGroup var check: DDPCheckOptions
    @Option(help: "Inject a fault: mismatch, stop, sleep or crash.") var fault: String?
    @Option(help: "Rank that gets the fault.") var faultRank = 1
    @Option(help: "Step at which the fault happens.") var faultStep = 2

    func run() throws { try check.run(fault: fault, rank: faultRank, step: faultStep) }
}

struct DevHangCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hang", abstract: "One rank stops (SIGSTOP) or sleeps mid-training; the watchdog must end the job.")
    @OptionGroup var check: DDPCheckOptions
    @Option(help: "Rank that hangs.") var rank = 1
    @Option(help: "Step at which it hangs.") var atStep = 2
    @Option(help: "stop (SIGSTOP) or sleep.") var mode = "stop"

    func run() throws { try check.run(fault: mode, rank: rank, step: atStep) }
}

struct DevCrashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash", abstract: "One rank is killed (SIGKILL) mid-training; the job must end promptly, non-zero.")
    @OptionGroup var check: DDPCheckOptions
    @Option(help: "Rank that dies.") var rank = 1
    @Option(help: "Step at which it dies.") var atStep = 2

    func run() throws { try check.run(fault: "crash", rank: rank, step: atStep) }
}
