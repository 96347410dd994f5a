// The training state a checkpoint holds (DESIGN.md section 8), as plain values.
import Foundation
import IFERTensor

/// One optimiser's state: named float arrays (moments, Lookahead slow weights), named int64
/// arrays (step counts) and named scalars (learning rate, scheduler position). Keys may contain
/// "/" to nest (e.g. "exp_avg/encoder.layer.weight").
public struct OptimizerState {
    public var name: String
    public var tensors: [(key: String, tensor: Tensor)]
    public var int64s: [(key: String, values: [Int64])]
    public var scalars: [(key: String, value: Double)]

    public init(name: String, tensors: [(key: String, tensor: Tensor)] = [], int64s: [(key: String, values: [Int64])] = [],
                scalars: [(key: String, value: Double)] = []) {
        self.name = name
        self.tensors = tensors
        self.int64s = int64s
        self.scalars = scalars
    }

    public func tensor(_ key: String) -> Tensor? { tensors.first { $0.key == key }?.tensor }
    public func int64s(_ key: String) -> [Int64]? { int64s.first { $0.key == key }?.values }
    public func scalar(_ key: String) -> Double? { scalars.first { $0.key == key }?.value }
}

/// One rank's RNG state words (Philox.state) and loader cursor words.
public struct RankState: Equatable {
    public var rng: [UInt64]
    public var cursor: [Int64]
    public init(rng: [UInt64], cursor: [Int64]) {
        self.rng = rng
        self.cursor = cursor
    }
}

/// Everything saved at one step.
public struct CheckpointState {
    public var stage: String
    public var step: Int
    public var epoch: Int
    public var worldSize: Int
    /// The resolved config (YAML text).
    public var config: String
    /// Identifies the network shapes (e.g. "asit/tiny"); a checkpoint of another architecture is refused.
    public var architecture: String
    public var params: [(key: String, tensor: Tensor)]
    public var buffers: [(key: String, tensor: Tensor)]
    public var optimizers: [OptimizerState]
    /// Index r holds rank r's state; count == worldSize when the caller gathered every rank.
    public var ranks: [RankState]
    /// ISO-8601 UTC; filled in by the writer when empty.
    public var createdAt: String
    /// The format version the file was written with (CheckpointFormat.version for new states).
    public var formatVersion: Int
    /// A classifier's class names in output order (written as the root attribute `class_names`).
    public var classNames: [String] = []

    public init(stage: String, step: Int, epoch: Int, worldSize: Int, config: String, architecture: String = "",
                params: [(key: String, tensor: Tensor)], buffers: [(key: String, tensor: Tensor)] = [],
                optimizers: [OptimizerState] = [], ranks: [RankState] = [], createdAt: String = "") {
        self.stage = stage
        self.step = step
        self.epoch = epoch
        self.worldSize = worldSize
        self.config = config
        self.architecture = architecture
        self.params = params
        self.buffers = buffers
        self.optimizers = optimizers
        self.ranks = ranks
        self.createdAt = createdAt
        self.formatVersion = CheckpointFormat.version
    }

    public func param(_ key: String) -> Tensor? { params.first { $0.key == key }?.tensor }
    public func buffer(_ key: String) -> Tensor? { buffers.first { $0.key == key }?.tensor }
    public func optimizer(_ name: String) -> OptimizerState? { optimizers.first { $0.name == name } }

    /// Total number of parameter floats.
    public var parameterCount: Int { params.reduce(0) { $0 + $1.tensor.count } }
}

/// A checkpoint problem; `path` is the file (or run directory) concerned.
public struct CheckpointError: Error, CustomStringConvertible, LocalizedError {
    public enum Kind: Equatable {
        /// Bytes do not match their checksum, the file is truncated, or not a checkpoint.
        case corrupt
        /// A valid checkpoint that does not belong to this run (newer format, other stage/architecture).
        case incompatible
        /// Tensors missing, unexpected or of the wrong shape.
        case stateMismatch
        /// Cannot read/write the file system.
        case io
    }
    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "checkpoint \(path): \(message)" }
    public var errorDescription: String? { description }
}
