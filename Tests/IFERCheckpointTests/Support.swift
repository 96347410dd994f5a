import Foundation
@_exported import IFERTestSupport
import IFERTensor
import XCTest
@testable import IFERCheckpoint

func tensor(_ shape: [Int], seed: Float) -> Tensor {
    let n = shape.reduce(1, *)
    return try! Tensor((0..<n).map { Float($0) * 0.25 + seed }, shape: shape)
}

/// A small but complete training state: params, buffers, two optimisers, two ranks.
func sampleState(step: Int, stage: String = "asit") -> CheckpointState {
    let params: [(key: String, tensor: Tensor)] = [
        ("encoder.input_layer.0.weight", tensor([4, 3, 3, 3], seed: 1)),
        ("encoder.input_layer.0.bias", tensor([4], seed: 2)),
        ("decoder.style.1.weight", tensor([8, 8], seed: Float(step))),
        ("head.scale", tensor([], seed: 5)),
    ]
    let buffers: [(key: String, tensor: Tensor)] = [("latent_avg", tensor([8], seed: 3)), ("decoder.noises.noise_0", tensor([1, 1, 4, 4], seed: 4)),
                                                    ("empty", tensor([0, 3], seed: 0))]
    let adam = OptimizerState(name: "encoder",
                              tensors: [("exp_avg/encoder.input_layer.0.weight", tensor([4, 3, 3, 3], seed: 6)),
                                        ("exp_avg_sq/encoder.input_layer.0.weight", tensor([4, 3, 3, 3], seed: 7))],
                              int64s: [("step", [Int64(step)])], scalars: [("lr", 1e-4), ("scheduler_position", 12.5)])
    let d = OptimizerState(name: "discriminator", tensors: [("momentum/w", tensor([3], seed: 8))])
    return CheckpointState(stage: stage, step: step, epoch: step / 10, worldSize: 2, config: "model:\n  size: micro\n",
                           architecture: "asit/micro", params: params, buffers: buffers, optimizers: [adam, d],
                           ranks: [RankState(rng: [1, UInt64.max, 3, 0], cursor: [7, 0]), RankState(rng: [4, 5, 6, 0], cursor: [7, 1])])
}


