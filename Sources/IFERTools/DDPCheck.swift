import Foundation
import IFERTrain

/// `ifer dev ddp-equivalence` (and the fault injections `hang`, `crash`, `mismatch`): a small MLP
/// trained data-parallel with plain SGD on the flat buffer. The test suite compares the final
/// parameters of 1 process with global batch B against N processes with B/N each.
///
/// The model reads per-sample noise and a per-sample dropout mask keyed by (seed, step, global
/// sample index), so its result must not depend on the number of ranks; an unused parameter
/// exercises "reduced as zeros"; an EMA buffer exercises "never reduced, identical by construction".
public enum DDPCheck {
    public struct Options {
        public var steps = 5
        public var globalBatch = 8
        public var accumulation = 1
        public var seed: UInt64 = 1234
        public var learningRate: Float = 0.1
        public var bucketBytes = 1 << 20
        public var checkEvery = 1
        /// Average by scaling after the reduction instead of seeding backward with 1/worldSize.
        public var averageAfterReduce = false
        public var hidden = 32
        public var collectiveTimeout = 0.0
        public var stepTimeout = 0.0
        /// Fault injection at `faultStep` on `faultRank`: "mismatch", "stop", "sleep", "crash".
        public var fault: String?
        public var faultRank = 1
        public var faultStep = 2
        public init() {}
    }

    public struct Result {
        /// Parameter values in registration order, padding removed.
        public let parameters: [Float]
        public let losses: [Double]
        public let hash: UInt64
    }

    static let inputs = 8, outputs = 4

    public static func run(_ comm: Communicator, _ o: Options) throws -> Result {
        guard o.steps > 0, o.accumulation > 0, o.globalBatch % (comm.worldSize * o.accumulation) == 0 else {
            throw DistError.mismatch("rank \(comm.rank): global batch \(o.globalBatch) must split into \(comm.worldSize) ranks x \(o.accumulation) micro-batches")
        }
        if o.collectiveTimeout > 0 || o.stepTimeout > 0 {
            Watchdog.install(on: comm, collectiveTimeout: o.collectiveTimeout, stepTimeout: o.stepTimeout)
        }
        // Parameters, initialized differently on each rank: the broadcast must make them rank 0's.
        var initRNG = Philox(seed: o.seed, 0x1417, UInt64(comm.rank))
        func param(_ name: String, _ shape: [Int], std: Float) -> Tensor {
            let t = Tensor.randn(shape, &initRNG, std: std)
            t.kind = .parameter; t.requiresGrad = true; t.name = name
            return t
        }
        let w1 = param("fc1.weight", [inputs, o.hidden], std: 0.5), b1 = param("fc1.bias", [o.hidden], std: 0.1)
        let w2 = param("fc2.weight", [o.hidden, outputs], std: 0.3), b2 = param("fc2.bias", [outputs], std: 0.1)
        let unused = param("unused.weight", [5], std: 1)
        let flat = FlatBuffer([w1, b1, w2, b2, unused], withGradients: true)
        let ema = Tensor(zeros: [flat.count]); ema.name = "ema"
        let dp = try DataParallel(flat, comm: comm, buffers: [ema], bucketBytes: o.bucketBytes)
        defer { dp.close() }
        if o.averageAfterReduce { dp.averaging = .afterReduce }
        dp.replicaCheckEvery = o.checkEvery
        try dp.broadcastParameters()
        ema.ptr.update(from: flat.values.base, count: flat.count)

        let local = o.globalBatch / comm.worldSize
        let micro = local / o.accumulation
        var losses: [Double] = []
        for step in 0..<o.steps {
            comm.watchdog?.beginStep(step)
            if step == o.faultStep && comm.rank == o.faultRank { try inject(o.fault, step: step, comm: comm) }
            flat.zeroGrad()
            let indices = try SampleKeys.localIndices(batchStart: step * o.globalBatch, globalBatch: o.globalBatch,
                                                      rank: comm.rank, worldSize: comm.worldSize)
            var lossSum = 0.0
            for m in 0..<o.accumulation {
                let batch = Array(indices[(m * micro)..<((m + 1) * micro)])
                let (x, y, mask) = sample(batch, step: step, seed: o.seed, hidden: o.hidden)
                // Each micro-batch's loss is divided by the whole local batch, so the accumulated
                // gradient is the local mean, and the average over ranks is the global mean.
                let h = mul(tanh(try addBias(try matmul(x, w1), b1)), mask)   // [micro, hidden]
                let out = try addBias(try matmul(h, w2), b2)                     // [micro, outputs]
                let loss = squaredError(out, y, scale: 1 / Float(local * outputs))
                lossSum += Double(loss.item)
                if m == o.accumulation - 1 {
                    try dp.backward(loss)
                } else {
                    try dp.noSync { try dp.backward(loss) }
                }
            }
            // Plain SGD on the flat buffer, then the EMA buffer (never reduced).
            let v = flat.values.base, g = flat.grads!.base
            for i in 0..<flat.count { v[i] -= o.learningRate * g[i] }
            for i in 0..<flat.count { ema.ptr[i] = 0.9 * ema.ptr[i] + 0.1 * v[i] }
            if o.fault == "mismatch" && comm.rank == o.faultRank && step == o.faultStep { w2.ptr[3] += 1e-3 }
            var l = [lossSum]
            try l.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: 1) }
            losses.append(l[0] / Double(comm.worldSize))
            try dp.stepFinished(step)
        }
        var params: [Float] = []
        for i in flat.tensors.indices { params += Array(UnsafeBufferPointer(start: flat.values.base + flat.range(of: i).lowerBound, count: flat.tensors[i].count)) }
        return Result(parameters: params, losses: losses, hash: ReplicaCheck.hash(flat.tensors + [ema]))
    }

    static func inject(_ fault: String?, step: Int, comm: Communicator) throws {
        switch fault {
        case "stop"?:
            FileHandle.standardError.write(Data("[rank \(comm.rank)] injected fault: SIGSTOP at step \(step)\n".utf8))
            raise(SIGSTOP)
        case "sleep"?:
            FileHandle.standardError.write(Data("[rank \(comm.rank)] injected fault: sleeping at step \(step)\n".utf8))
            while true { Thread.sleep(forTimeInterval: 3600) }
        case "crash"?:
            FileHandle.standardError.write(Data("[rank \(comm.rank)] injected fault: SIGKILL at step \(step)\n".utf8))
            kill(getpid(), SIGKILL)
        case nil, "mismatch"?:
            break
        case let f?:
            throw DistError.mismatch("rank \(comm.rank): unknown fault '\(f)' (mismatch, stop, sleep, crash)")
        }
    }

    /// Inputs, targets and dropout masks of some global samples; a pure function of (seed, step, index).
    static func sample(_ indices: [Int], step: Int, seed: UInt64, hidden: Int) -> (Tensor, Tensor, Tensor) {
        let n = indices.count
        let x = Tensor(zeros: [n, inputs]), y = Tensor(zeros: [n, outputs]), mask = Tensor(zeros: [n, hidden])
        let noise = SampleKeys.rngs(seed: seed, purpose: "noise", step: step, globalIndices: indices)
        let drop = SampleKeys.rngs(seed: seed, purpose: "dropout", step: step, globalIndices: indices)
        for (r, g) in indices.enumerated() {
            var data = Philox(seed: seed, SampleKeys.purposeID("data"), UInt64(g))
            var nz = noise[r], dr = drop[r]
            var clean = [Float](repeating: 0, count: inputs)
            for k in 0..<inputs { clean[k] = data.uniform(-1, 1); x.ptr[r * inputs + k] = clean[k] + 0.05 * nz.normal() }
            for j in 0..<outputs { y.ptr[r * outputs + j] = sin(clean[j] + 2 * clean[j + 4]) }
            for k in 0..<hidden { mask.ptr[r * hidden + k] = dr.bernoulli(0.9) ? 1 / 0.9 : 0 }
        }
        return (x, y, mask)
    }

    // The few elementwise ops the check needs, forward and backward side by side.

    /// x [N, C] + b [C]
    static func addBias(_ x: Tensor, _ b: Tensor) throws -> Tensor {
        let n = x.dim(0), c = x.dim(1)
        guard b.count == c else { throw TensorError.shapeMismatch(op: "addBias", shapes: [x.shape, b.shape], detail: "bias length") }
        let out = Tensor(zeros: x.shape)
        for i in 0..<n { for j in 0..<c { out.ptr[i * c + j] = x.ptr[i * c + j] + b.ptr[j] } }
        return Autograd.record("addBias", output: out, inputs: [x, b]) { g in
            if x.requiresGrad { x.accumulateGrad(g.ptr) }
            if b.requiresGrad {
                let gb = b.gradOrCreate().ptr
                for i in 0..<n { for j in 0..<c { gb[j] += g.ptr[i * c + j] } }
            }
        }
    }

    /// tanh(x), same shape
    static func tanh(_ x: Tensor) -> Tensor {
        let out = Tensor(zeros: x.shape)
        for i in 0..<x.count { out.ptr[i] = Foundation.tanh(x.ptr[i]) }
        return Autograd.record("tanh", output: out, inputs: [x]) { g in
            guard x.requiresGrad else { return }
            let gx = x.gradOrCreate().ptr
            for i in 0..<x.count { gx[i] += g.ptr[i] * (1 - out.ptr[i] * out.ptr[i]) }
        }
    }

    /// x * m with a constant m of the same shape
    static func mul(_ x: Tensor, _ m: Tensor) -> Tensor {
        let out = Tensor(zeros: x.shape)
        for i in 0..<x.count { out.ptr[i] = x.ptr[i] * m.ptr[i] }
        return Autograd.record("mulMask", output: out, inputs: [x]) { g in
            guard x.requiresGrad else { return }
            let gx = x.gradOrCreate().ptr
            for i in 0..<x.count { gx[i] += g.ptr[i] * m.ptr[i] }
        }
    }

    /// scale * sum((a - y)^2), a scalar; y is a constant
    static func squaredError(_ a: Tensor, _ y: Tensor, scale: Float) -> Tensor {
        var s: Float = 0
        for i in 0..<a.count { let d = a.ptr[i] - y.ptr[i]; s += d * d }
        let out = Tensor(scalar: s * scale)
        return Autograd.record("squaredError", output: out, inputs: [a]) { g in
            guard a.requiresGrad else { return }
            let ga = a.gradOrCreate().ptr
            for i in 0..<a.count { ga[i] += g.ptr[0] * 2 * scale * (a.ptr[i] - y.ptr[i]) }
        }
    }
}
