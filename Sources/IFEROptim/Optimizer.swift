@_exported import IFERTensor
import Foundation

/// An optimizer updates the parameters of one `FlatBuffer` from its flat gradient buffer.
///
/// All state (moments, slow weights, step counts) is held in flat arrays parallel to the parameter
/// buffer, so a step is a few passes over contiguous memory and a checkpoint is a few datasets.
public protocol Optimizer: AnyObject {
    /// Short name used as the checkpoint group (`/optimizer/<name>/...`).
    var name: String { get }
    /// One update with learning rate `lr` (the schedule lives outside the optimizer).
    func step(lr: Float) throws
    /// Every state array by key, for checkpoints.
    func stateArrays() -> [(String, [Float])]
    var stepCount: Int { get }
    /// Restores what `stateArrays` and `stepCount` returned; throws naming a missing or mis-sized key.
    func loadState(_ arrays: [String: [Float]], stepCount: Int) throws
}

public enum OptimError: Error, CustomStringConvertible {
    case badState(String)
    case badConfig(String)
    public var description: String {
        switch self {
        case let .badState(s): return "optimizer state: \(s)"
        case let .badConfig(s): return "optimizer config: \(s)"
        }
    }
}

/// Per-parameter weight-decay factors: 0 for biases and every 1-D tensor (norm scales, layer
/// scales), `decay` for the rest — the usual AdamW parameter grouping (timm's `param_groups_weight_decay`).
public func decayMask(_ flat: FlatBuffer, decay: Float) -> [Float] {
    var mask = [Float](repeating: 0, count: flat.count)
    for (i, t) in flat.tensors.enumerated() where t.rank > 1 && !t.name.hasSuffix(".bias") {
        for j in flat.range(of: i) { mask[j] = decay }
    }
    return mask
}

/// Shared plumbing: the parameter buffer, state arrays and their (de)serialisation.
public class FlatOptimizer {
    public let flat: FlatBuffer
    public internal(set) var stepCount = 0
    var states: [(String, UnsafeMutableBufferPointer<Float>)] = []
    private var storages: [Storage] = []

    /// `stateKeys`: one zeroed array the size of the parameter buffer per key.
    init(_ flat: FlatBuffer, stateKeys: [String]) throws {
        guard flat.grads != nil else { throw OptimError.badConfig("the flat buffer has no gradients") }
        self.flat = flat
        for key in stateKeys {
            let s = Storage(count: flat.count)
            storages.append(s)
            states.append((key, UnsafeMutableBufferPointer(start: s.base, count: flat.count)))
        }
    }

    /// State array `i` (in `stateKeys` order).
    func state(_ i: Int) -> UnsafeMutablePointer<Float> { storages[i].base }

    var p: UnsafeMutablePointer<Float> { flat.values.base }
    var g: UnsafeMutablePointer<Float> { flat.grads!.base }
    var n: Int { flat.count }

    public func stateArrays() -> [(String, [Float])] { states.map { ($0.0, Array($0.1)) } }

    public func loadState(_ arrays: [String: [Float]], stepCount: Int) throws {
        for (key, buf) in states {
            guard let a = arrays[key] else { throw OptimError.badState("missing array '\(key)'") }
            guard a.count == buf.count else {
                throw OptimError.badState("array '\(key)' has \(a.count) values, expected \(buf.count)")
            }
            _ = buf.update(from: a)
        }
        self.stepCount = stepCount
    }
}
