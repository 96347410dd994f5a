import ArgumentParser
import IFERTools

struct BenchStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "A training step's throughput, JSON lines: a stage's (images/s, FLOPs, MFU against sgemm), or the PyTorch peer's ASIT-like step (--model peer, also under mpirun).")

    @Option(help: "What to time: 'stage' (the config's train.stage, as ifer train builds it) or 'peer' (the PyTorch peer's ASIT-like step, peers/peer_bench.py).")
    var model: String = "stage"

    @Option(help: "A run config (its train.stage is the stage timed; --model stage only).")
    var config: String = "configs/tiny/asit.yaml"

    @Option(name: .customLong("set"), help: "Override a config key, as for ifer train (repeatable; --model stage only).")
    var overrides: [String] = []

    @Option(help: "Batch size (per rank under mpirun).")
    var batch: Int = 8

    @Option(help: "Comma-separated BLAS thread counts (under mpirun, --model peer: the first one, per rank).")
    var threads: String = "1,2"

    @Option(help: "Minimum seconds of timed repetitions per thread count (one process).")
    var minTime: Double = 3

    @Option(help: "Untimed warm-up steps before timing (default: 2 for a stage, 3 for --model peer).")
    var warmup: Int?

    @Option(help: "--model peer: modulated-conv form, 'scale' (one shared-weight conv), 'grouped' (per-sample weights, B groups) or 'both'.")
    var modconv: String = "scale"

    @Option(help: "Timed steps: in one process the minimum, more until --min-time (default: 5 for a stage, 20 for --model peer; under mpirun, --model peer, the same on every rank).")
    var reps: Int?

    @Option(help: "--model peer: gradient bucket size in bytes (the training default: 1 MB).")
    var bucketBytes: Int = 1 << 20

    @Flag(help: "JSON lines (the only output format).")
    var json = false

    func run() throws {
        let ts = threads.split(separator: ",").compactMap { Int($0) }
        guard !ts.isEmpty, ts.allSatisfy({ $0 > 0 }), batch > 0 else {
            throw ValidationError("--threads must list positive integers and --batch must be positive")
        }
        guard (reps ?? 1) > 0, (warmup ?? 0) >= 0 else { throw ValidationError("--reps must be positive and --warmup at least 0") }
        switch model {
        case "stage":
            try StepBench.run(configFile: config, overrides: overrides, batch: batch, threads: ts, minTime: minTime,
                              warmup: warmup ?? 2, reps: reps ?? 5)
        case "peer":
            var o = PeerStepBench.Options()
            switch modconv {
            case "both": o.modes = PeerModConvMode.allCases
            default:
                guard let m = PeerModConvMode(rawValue: modconv) else {
                    throw ValidationError("--modconv must be scale, grouped or both (got '\(modconv)')")
                }
                o.modes = [m]
            }
            guard bucketBytes >= 64 else { throw ValidationError("--bucket-bytes must be at least 64") }
            o.batch = batch
            o.threads = ts
            o.minTime = minTime
            o.reps = reps ?? 20
            o.warmup = warmup ?? 3
            o.bucketBytes = bucketBytes
            try withCommunicator { comm in try PeerStepBench.run(comm, o) }
        default:
            throw ValidationError("--model must be 'stage' or 'peer' (got '\(model)')")
        }
    }
}
