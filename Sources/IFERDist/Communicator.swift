import IFERTensor

/// Errors of the distributed runtime; messages name the rank and the operation.
public enum DistError: Error, CustomStringConvertible {
    case mpi(op: String, rank: Int, code: Int32)
    case mismatch(String)
    case timeout(String)

    public var description: String {
        switch self {
        case let .mpi(op, rank, code): return "rank \(rank): \(op) failed with MPI error \(code)"
        case let .mismatch(s): return s
        case let .timeout(s): return s
        }
    }
}

/// What data-parallel training needs from the process group. Two backends: `SingleProcess`
/// (world of one, every collective is the identity) and MPI (see MPICommunicator.swift).
/// All collectives are blocking and must be called by every rank in the same order.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }
    /// Rank among the processes on this node, and how many share the node (for BLAS threads).
    var localRank: Int { get }
    var localSize: Int { get }
    /// When set, every collective is timed by it (see Watchdog.swift).
    var watchdog: Watchdog? { get set }

    /// In place: every rank ends with the element-wise sum (or average) over ranks.
    func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws
    func allReduce(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws
    /// In place: every rank ends with rank `root`'s bytes.
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws
    /// Every rank's `values` (same count on every rank), concatenated in rank order.
    func allGather(_ values: [Int64]) throws -> [Int64]
    func barrier() throws
    /// Ends the whole job (every rank) with `code`; prints `message` first.
    func abort(_ message: String, code: Int32) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }

    /// Broadcasts a string (e.g. the checkpoint path chosen by rank 0).
    public func broadcast(_ s: String, root: Int = 0) throws -> String {
        var len = [Int64(s.utf8.count)]
        try len.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: 8, root: root) }
        var bytes = rank == root ? Array(s.utf8) : [UInt8](repeating: 0, count: Int(len[0]))
        if !bytes.isEmpty {
            try bytes.withUnsafeMutableBytes { try broadcast($0.baseAddress!, bytes: $0.count, root: root) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Broadcasts a tensor's values in place.
    public func broadcast(_ t: Tensor, root: Int = 0) throws {
        try broadcast(UnsafeMutableRawPointer(t.ptr), bytes: t.bytes, root: root)
    }
}

/// A world of one process: collectives are identities. Used without mpirun and in unit tests.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public var localRank: Int { 0 }
    public var localSize: Int { 1 }
    public var watchdog: Watchdog?
    public func allReduce(_ buffer: UnsafeMutablePointer<Float>, count: Int, average: Bool) throws {}
    public func allReduce(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {}
    public func allGather(_ values: [Int64]) throws -> [Int64] { values }
    public func barrier() throws {}
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        fflush(stdout)
        _exit(code)
    }
}

import Foundation
