import Foundation
import IFERTensor

/// Data-parallel replicas over one FlatBuffer of parameters (PyTorch DDP semantics, llm.c layout).
///
/// - At start (`broadcastParameters`) rank 0's parameters and buffers are copied to every rank.
/// - The gradient buffer is cut into buckets of about `bucketBytes` (1 MB by default: on one node
///   of this kind, 1 MB all-reduces beat both smaller ones and one big call), walking the
///   parameters in reverse registration order, the order backward finishes them.
/// - `backwardHook` (pass it as `onGradReady`) marks a parameter's gradient final; when all of a
///   bucket's parameters are final the bucket is handed to a communication thread that all-reduces
///   it (a sum over ranks: `backward` seeded the loss gradient with 1/worldSize, so the sum is the
///   average) while the backward pass continues on the main thread.
/// - The communication thread reduces buckets strictly in bucket order, so every rank issues the
///   same sequence of collectives even if gradients become final in a different order.
/// - `finishGradientSync` waits for all buckets. A bucket whose parameters never got a gradient is
///   reduced as it is: zeros when the caller zeroed the gradients, so every rank agrees.
/// - `noSync { }` (or `requireSync = false`) skips communication for gradient-accumulation
///   micro-steps; the last micro-step syncs the accumulated sum.
/// - Buffers (EMA copies, momentum networks) are never reduced: every rank applies the same
///   update to identical values. `checkReplicas` verifies that, and the parameters, by hash.
///
/// While a sync is in flight (between the first hook call and `finishGradientSync`) the main thread
/// must not issue collectives of its own: the ranks' collective order would differ.
public final class DataParallel {
    public let flat: FlatBuffer
    public let buffers: [Tensor]
    public let comm: Communicator
    /// Buckets in reduction order: bucket 0 holds the last-registered parameters.
    public let buckets: [Bucket]
    /// Largest single MPI call, in floats (a bucket bigger than this, one huge tensor, is sent in pieces).
    public let chunkFloats: Int
    /// False during accumulation micro-steps: the hook and `finishGradientSync` do nothing.
    public var requireSync = true
    /// How gradients become averages (sums / world size).
    public var averaging = Averaging.scaleSeed {
        didSet { reducer.setAverageAfterReduce(averaging == .afterReduce) }
    }

    public enum Averaging {
        /// `backward` seeds the loss gradient with 1/worldSize, so the all-reduce sum is already
        /// the average: no extra pass over the gradient buffer (the default).
        case scaleSeed
        /// Gradients are summed, then multiplied by 1/worldSize bucket by bucket. Use this when
        /// driving `backward(onGradReady: backwardHook)` yourself with an unscaled seed.
        case afterReduce
    }

    public struct Bucket {
        /// Indices into `flat.tensors`, ascending.
        public let tensors: ClosedRange<Int>
        /// Float range of the flat gradient buffer (alignment padding included: it stays zero).
        public let range: Range<Int>
    }

    /// The round state and the reducing, shared with the communication thread. The thread holds
    /// only this object, so DataParallel can be released while the thread waits; its deinit stops
    /// the thread.
    private let reducer: Reducer

    /// `buffers`: non-parameter state to broadcast at start and include in replica checks.
    public init(_ flat: FlatBuffer, comm: Communicator, buffers: [Tensor] = [], bucketBytes: Int = 1 << 20) throws {
        guard let grads = flat.grads else {
            throw DistError.mismatch("rank \(comm.rank): DataParallel needs a FlatBuffer created withGradients: true")
        }
        guard bucketBytes >= 64 else {
            throw DistError.mismatch("rank \(comm.rank): bucket size \(bucketBytes) bytes is too small (minimum 64)")
        }
        self.flat = flat
        self.buffers = buffers
        self.comm = comm
        let cap = bucketBytes / MemoryLayout<Float>.stride
        chunkFloats = cap
        // Reverse registration order, closing a bucket once adding the next tensor would exceed the cap.
        var out: [Bucket] = []
        var hi = flat.tensors.count - 1
        var size = 0
        func end(_ i: Int) -> Int { i + 1 < flat.tensors.count ? flat.offsets[i + 1] : grads.count }
        for i in stride(from: flat.tensors.count - 1, through: 0, by: -1) {
            let n = end(i) - flat.offsets[i]
            if size > 0 && size + n > cap {
                out.append(Bucket(tensors: (i + 1)...hi, range: flat.offsets[i + 1]..<end(hi)))
                hi = i
                size = 0
            }
            size += n
        }
        if !flat.tensors.isEmpty { out.append(Bucket(tensors: 0...hi, range: flat.offsets[0]..<end(hi))) }
        buckets = out
        var bucketOf = [Int](repeating: 0, count: flat.tensors.count)
        for (b, bucket) in out.enumerated() { for t in bucket.tensors { bucketOf[t] = b } }
        reducer = Reducer(comm: comm, grads: grads, buckets: out, bucketOf: bucketOf, chunkFloats: cap)
        if comm.worldSize > 1 {
            let r = reducer
            let t = Thread { r.communicationLoop() }
            t.name = "ifer-allreduce"
            t.start()
        }
    }

    deinit { close() }

    /// Stops the communication thread (also done by deinit).
    public func close() { reducer.close() }

    /// Copies rank 0's parameters and buffers to every rank.
    public func broadcastParameters() throws {
        try comm.broadcast(UnsafeMutableRawPointer(flat.values.base), bytes: flat.count * MemoryLayout<Float>.stride, root: 0)
        for b in buffers { try comm.broadcast(b, root: 0) }
    }

    /// Pass as `onGradReady` to `backward`.
    public var backwardHook: (Tensor) -> Void { { [unowned self] t in self.gradientReady(t) } }

    /// Marks one parameter's gradient final; launches its bucket when that was the last one.
    public func gradientReady(_ t: Tensor) {
        guard requireSync, comm.worldSize > 1 else { return }
        let i = t.flatIndex
        // Parameters of another FlatBuffer (e.g. a second network) are not ours to reduce.
        guard i >= 0, i < flat.tensors.count, flat.tensors[i] === t else { return }
        reducer.ready(tensor: i, name: t.name)
    }

    /// Waits until every bucket is all-reduced (launching the ones whose parameters got no
    /// gradient), then starts a fresh round. Gradients are then the average over ranks.
    public func finishGradientSync() throws {
        guard requireSync, comm.worldSize > 1 else { return }
        try reducer.finish()
    }

    /// The factor `backward` seeds the loss gradient with under `.scaleSeed` averaging.
    public var gradientScale: Float { averaging == .scaleSeed ? 1 / Float(comm.worldSize) : 1 }

    /// Backward from `loss`, then (when syncing) the gradient all-reduce, overlapped. Use this also
    /// for the micro-steps inside `noSync`, so every contribution carries the same scale.
    public func backward(_ loss: Tensor, gradient: Tensor? = nil) throws {
        var seed = gradient
        if gradientScale != 1 {
            let s = gradient?.copy() ?? Tensor(filled: 1, shape: loss.shape)
            for i in 0..<s.count { s.ptr[i] *= gradientScale }
            seed = s
        }
        if requireSync && comm.worldSize > 1 {
            do {
                try loss.backward(gradient: seed, onGradReady: backwardHook)
            } catch {
                try? finishGradientSync()  // keep the collective sequence aligned before reporting
                throw error
            }
            try finishGradientSync()
        } else {
            try loss.backward(gradient: seed)
        }
    }

    /// Runs `body` (accumulation micro-steps) without gradient communication.
    public func noSync<T>(_ body: () throws -> T) rethrows -> T {
        let was = requireSync
        requireSync = false
        defer { requireSync = was }
        return try body()
    }

    /// Compares a hash of every parameter and buffer across ranks (see ReplicaCheck.swift).
    public func checkReplicas(step: Int) throws {
        try ReplicaCheck.verify(flat.tensors + buffers, comm: comm, step: step)
    }

    /// Replica check every this many steps in `stepFinished` (0 = never).
    public var replicaCheckEvery = 100

    /// Call after each optimizer step: runs the replica check every `replicaCheckEvery` steps.
    public func stepFinished(_ step: Int) throws {
        if replicaCheckEvery > 0 && (step + 1) % replicaCheckEvery == 0 { try checkReplicas(step: step) }
    }

    // MARK: communication thread

}

/// Buckets handed from the backward pass (main thread) to the communication thread.
private final class Reducer {
    let comm: Communicator
    let grads: Storage
    let buckets: [DataParallel.Bucket]
    let bucketOf: [Int]
    let chunkFloats: Int

    // All below under `cond`.
    let cond = NSCondition()
    var pending: [Int]
    var ready: [Bool]
    var seen: [Bool]
    var reduced = 0        // buckets done this round; they are reduced strictly in order
    var busy = false       // a thread is reducing bucket `reduced` now
    var failure: Error?
    var twice: String?
    var closed = false
    var averageAfterReduce = false

    init(comm: Communicator, grads: Storage, buckets: [DataParallel.Bucket], bucketOf: [Int], chunkFloats: Int) {
        self.comm = comm
        self.grads = grads
        self.buckets = buckets
        self.bucketOf = bucketOf
        self.chunkFloats = chunkFloats
        pending = buckets.map { $0.tensors.count }
        ready = [Bool](repeating: false, count: buckets.count)
        seen = [Bool](repeating: false, count: bucketOf.count)
    }

    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }

    func setAverageAfterReduce(_ on: Bool) {
        cond.lock(); averageAfterReduce = on; cond.unlock()
    }

    func ready(tensor i: Int, name: String) {
        cond.lock()
        if seen[i] {
            twice = twice ?? "'\(name)' (tensor \(i))"
        } else {
            seen[i] = true
            let b = bucketOf[i]
            pending[b] -= 1
            if pending[b] == 0 { ready[b] = true; cond.broadcast() }
        }
        cond.unlock()
    }

    /// The main thread has nothing else to do here, so it reduces the remaining buckets itself
    /// whenever the communication thread is not in the middle of one (same strict bucket order,
    /// one reducer at a time): that saves a thread hand-off per step, which is most of the
    /// overhead for a gradient of one or two buckets.
    func finish() throws {
        cond.lock()
        for b in ready.indices where !ready[b] { ready[b] = true }
        cond.broadcast()
        while reduced < buckets.count {
            if busy { cond.wait(); continue }
            reduceNext()
        }
        let error = failure, double = twice
        // Fresh round.
        reduced = 0
        failure = nil
        twice = nil
        pending = buckets.map { $0.tensors.count }
        for b in ready.indices { ready[b] = false }
        for t in seen.indices { seen[t] = false }
        cond.unlock()
        if let e = error { throw e }
        if let d = double {
            throw DistError.mismatch("rank \(comm.rank): parameter \(d) became ready twice in one gradient sync; "
                + "wrap earlier backward passes of the same step in noSync { }")
        }
    }

    /// Reduces bucket `reduced`; called with `cond` locked, returns with it locked.
    func reduceNext() {
        let b = reduced
        busy = true
        let skip = failure != nil
        let average = averageAfterReduce
        cond.unlock()
        var error: Error?
        if !skip {
            let r = buckets[b].range
            var start = r.lowerBound
            do {
                while start < r.upperBound {
                    let n = min(chunkFloats, r.upperBound - start)
                    try comm.allReduce(grads.base + start, count: n, average: average)
                    start += n
                }
            } catch let e { error = e }
        }
        cond.lock()
        if let e = error, failure == nil { failure = e }
        reduced += 1
        busy = false
        cond.broadcast()
    }

    func communicationLoop() {
        cond.lock()
        while true {
            while !closed && !(!busy && reduced < buckets.count && ready[reduced]) { cond.wait() }
            if closed { break }
            reduceNext()
        }
        cond.unlock()
    }
}
