// libFuzzer target: checkpoint bytes -> CheckpointReader (without the sidecar check, as if the
// sidecar matched damaged data) -> readState: every tensor, optimizer and rank record.
// With IFER_FUZZ_MAKE_SEED=DIR set, it instead writes a small real checkpoint into DIR with
// CheckpointWriter (how Fuzz/corpus/checkpoint was made) and exits.
import Foundation
import IFERTensor

private let path: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return base + "/ifer-fuzz-ckpt-\(getpid()).h5"
}()

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInit(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    guard let dir = ProcessInfo.processInfo.environment["IFER_FUZZ_MAKE_SEED"] else { return 0 }
    do {
        let w = try Tensor((0..<12).map { Float($0) * 0.25 - 1 }, shape: [3, 4])
        let b = try Tensor([0.5, -0.5, 2], shape: [3])
        let m = try Tensor([Float](repeating: 0.01, count: 12), shape: [3, 4])
        let state = CheckpointState(stage: "ifer", step: 7, epoch: 1, worldSize: 2, config: "train:\n  steps: 10\n",
                                    architecture: "fuzz-seed", params: [(key: "head.weight", tensor: w)],
                                    buffers: [(key: "head.running_mean", tensor: b)],
                                    optimizers: [OptimizerState(name: "adamw", tensors: [(key: "head.weight.exp_avg", tensor: m)],
                                                                int64s: [(key: "step", values: [7])], scalars: [(key: "lr", value: 1e-3)])],
                                    ranks: [RankState(rng: [1, 2, 3, 4], cursor: [1, 16]), RankState(rng: [5, 6, 7, 8], cursor: [1, 16])])
        print("wrote", try CheckpointWriter.save(state, runDir: dir, keep: 1))
    } catch {
        print("seed: \(error)")
        exit(1)
    }
    exit(0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard (try? Data(bytes: data, count: size).write(to: URL(fileURLWithPath: path))) != nil else { return 0 }
    if let r = try? CheckpointReader(path: path, verifyFileHash: false) {
        _ = try? r.readState()
        r.close()
    }
    return 0
}
