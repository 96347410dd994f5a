/// Reverse-mode automatic differentiation on a dynamic tape.
///
/// Every op that reads a tensor with `requiresGrad` appends a node (its inputs, its output and a
/// closure that turns the output's gradient into input gradients) to the current tape. `backward`
/// walks the tape in reverse, then clears it, which releases every activation the tape held.
/// Gradients accumulate (`+=`) so micro-batches can be summed before an optimizer step.
///
/// Second-order gradients (PyTorch's `create_graph=True`): besides its fast raw-buffer backward,
/// an op may record a `VJP`, its backward written with tensor ops. `grad(of:wrt:seeds:createGraph:)`
/// walks the tape with those, so with `createGraph: true` the gradient computation is itself
/// recorded and the returned gradients can be differentiated again (R1, path-length penalties).
public enum Autograd {
    /// False inside `noGrad`: ops then record nothing and outputs never require gradients.
    public internal(set) static var isEnabled = true
    static var nodes: [Node] = []

    /// A differentiable backward: given the output's gradient g (a tensor that may itself be on
    /// the tape) and which inputs need a gradient, returns one gradient per input (nil where not
    /// needed), computed with recorded tensor ops only.
    public typealias VJP = (_ g: Tensor, _ needs: [Bool]) throws -> [Tensor?]

    struct Node {
        let op: String
        let inputs: [Tensor]
        let output: Tensor
        /// The fast path: adds raw gradients into `input.grad` (used by `backward`).
        let backward: (Tensor) throws -> Void
        /// The differentiable path (used by `grad`); nil for ops that have none yet.
        let vjp: VJP?
    }

    /// Runs `body` without recording anything on the tape (evaluation, EMA updates, momentum copies).
    public static func noGrad<T>(_ body: () throws -> T) rethrows -> T {
        let was = isEnabled
        isEnabled = false
        defer { isEnabled = was }
        return try body()
    }

    /// Number of nodes on the tape (for tests and memory reports).
    public static var tapeLength: Int { nodes.count }

    /// Bytes of the distinct op outputs the tape holds (the activations kept for backward).
    public static var tapeBytes: Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for n in nodes where seen.insert(ObjectIdentifier(n.output.storage)).inserted { total += n.output.storage.count * 4 }
        return total
    }

    /// Memory reports: when on, `backward` notes the tape's bytes as it starts (their maximum
    /// since the last `resetRecomputePeak()` is `backwardTapeBytesPeak`). Off by default.
    public static var measuresTape = false
    public internal(set) static var backwardTapeBytesPeak = 0

    /// Drops the tape and the activations it holds without computing gradients.
    public static func reset() { nodes.removeAll(keepingCapacity: true) }

    /// True when an op on these inputs must be recorded.
    @inline(__always)
    public static func needsGrad(_ inputs: Tensor...) -> Bool {
        isEnabled && inputs.contains { $0.requiresGrad }
    }

    @inline(__always)
    public static func needsGrad(_ inputs: [Tensor]) -> Bool {
        isEnabled && inputs.contains { $0.requiresGrad }
    }

    /// Records `output = op(inputs)` with its backward closure when any input requires a gradient.
    /// The closure receives the gradient of `output` and must add (never overwrite) into the
    /// gradients of the inputs that require them (`input.gradOrCreate()`).
    /// `vjp` is the same backward written with tensor ops, needed by `grad` (second order).
    @discardableResult
    public static func record(_ op: String, output: Tensor, inputs: [Tensor], vjp: VJP? = nil,
                              backward: @escaping (Tensor) throws -> Void) -> Tensor {
        guard needsGrad(inputs) else { return output }
        output.requiresGrad = true
        nodes.append(Node(op: op, inputs: inputs, output: output, backward: backward, vjp: vjp))
        return output
    }

    /// Records an op whose only backward is its `vjp` (the ops that exist for second-order
    /// gradients: conv input/weight gradients, the upfirdn2d adjoint). `backward` runs the vjp
    /// without recording and adds the results into the inputs' gradients.
    @discardableResult
    public static func record(_ op: String, output: Tensor, inputs: [Tensor], vjp: @escaping VJP) -> Tensor {
        record(op, output: output, inputs: inputs, vjp: vjp) { g in
            let gs = try noGrad { try vjp(g, inputs.map(\.requiresGrad)) }
            for (x, gx) in zip(inputs, gs) where x.requiresGrad {
                if let gx { x.accumulateGrad(gx.ptr) }
            }
        }
    }

    /// Back-propagates from `root` (seeded with `gradient`, or 1 for a scalar). `onGradReady` is
    /// called for each parameter as soon as no earlier tape node can add to its gradient, so a
    /// data-parallel wrapper can start reducing that part of the gradient buffer while backward
    /// continues. The tape is cleared afterwards.
    static func backward(from root: Tensor, gradient: Tensor?, onGradReady: ((Tensor) -> Void)?) throws {
        defer { reset() }
        if let g = gradient {
            try check(g.shape == root.shape, "backward", [root.shape, g.shape], "seed gradient must match the root")
        } else if root.count != 1 {
            throw TensorError.badArgument(op: "backward", detail: "root of shape \(root.shape) is not a scalar; pass a seed gradient")
        }
        guard root.requiresGrad else {
            throw TensorError.badArgument(op: "backward", detail: "root does not require a gradient (built under noGrad, or from constants only)")
        }

        if measuresTape { backwardTapeBytesPeak = max(backwardTapeBytesPeak, tapeBytes) }
        let rootGrad = root.gradOrCreate()
        if let g = gradient {
            rootGrad.ptr.update(from: g.ptr, count: g.count)
        } else {
            rootGrad.ptr[0] += 1
        }
        try walkTape(onGradReady: onGradReady)
    }

    /// The reverse walk of `backward` over the current tape (whose outputs' gradients are
    /// seeded): runs each node whose output has a gradient, from the last to the first. Also
    /// used by `checkpoint` to back-propagate through a block's recomputed sub-tape.
    static func walkTape(onGradReady: ((Tensor) -> Void)?) throws {
        // For each parameter, the first tape node that reads it: once the reverse walk has
        // processed that node the parameter's gradient is final.
        var readyAt: [Int: [Tensor]] = [:]
        if onGradReady != nil {
            var seen = Set<ObjectIdentifier>()
            for (i, node) in nodes.enumerated() {
                for t in node.inputs where t.kind == .parameter && t.requiresGrad {
                    if seen.insert(ObjectIdentifier(t)).inserted { readyAt[i, default: []].append(t) }
                }
            }
        }
        // Parameters read by a node that backward actually ran: only those are reported, so
        // stale nodes left on the tape (a forward without backward) never fire the hook.
        // `tape` is a copy: a checkpoint node's backward swaps `nodes` for its sub-tape meanwhile.
        let tape = nodes
        var reached = Set<ObjectIdentifier>()
        for i in stride(from: tape.count - 1, through: 0, by: -1) {
            let node = tape[i]
            if let g = node.output.grad {
                try node.backward(g)
                if node.output.kind == .activation { node.output.grad = nil }
                if onGradReady != nil {
                    for t in node.inputs where t.kind == .parameter { reached.insert(ObjectIdentifier(t)) }
                }
            }
            if let ready = readyAt[i], let hook = onGradReady {
                for p in ready where reached.contains(ObjectIdentifier(p)) { hook(p) }
            }
        }
    }
}

extension Autograd {
    /// Gradients of `outputs` (weighted by `seeds`, or 1 for scalar outputs) with respect to
    /// `wrt`, one per entry of `wrt` (zeros where an entry does not reach the outputs), like
    /// `torch.autograd.grad(outputs, inputs, grad_outputs, create_graph)`.
    ///
    /// With `createGraph` the backward ops are recorded on the tape, so the returned gradients
    /// require gradients themselves: a penalty built from them can be `backward()`-ed (to the
    /// parameters) or passed to `grad` again. Without it they are constants. Either way the tape
    /// and `.grad` fields are left untouched (no `retain_graph` needed): the forward can still be
    /// back-propagated afterwards, and `reset()` or `backward()` releases it.
    /// Only nodes between `wrt` and `outputs` are visited, so an R1 gradient with respect to the
    /// images computes no weight gradients. Throws if a visited op has no differentiable backward.
    public static func grad(of outputs: [Tensor], wrt inputs: [Tensor], seeds: [Tensor]? = nil,
                            createGraph: Bool = false) throws -> [Tensor] {
        let op = "Autograd.grad"
        if let seeds {
            guard seeds.count == outputs.count else {
                throw TensorError.badArgument(op: op, detail: "\(seeds.count) seeds for \(outputs.count) outputs")
            }
            for (k, (y, s)) in zip(outputs, seeds).enumerated() {
                try check(y.shape == s.shape, op, [y.shape, s.shape], "seed \(k) must match output \(k)")
            }
        } else {
            for (k, y) in outputs.enumerated() where y.count != 1 {
                throw TensorError.badArgument(op: op, detail: "output \(k) of shape \(y.shape) is not a scalar; pass seeds")
            }
        }
        for (k, x) in inputs.enumerated() where !x.requiresGrad {
            throw TensorError.badArgument(op: op, detail: "input \(k) (shape \(x.shape)\(x.name.isEmpty ? "" : ", " + x.name)) does not require a gradient")
        }
        let tape = nodes
        // Forward sweep: the tensors that depend on `wrt`, and the nodes that lie on such a path.
        var reaches = Set(inputs.map { ObjectIdentifier($0) })
        var onPath = [Bool](repeating: false, count: tape.count)
        for (i, node) in tape.enumerated() where node.inputs.contains(where: { reaches.contains(ObjectIdentifier($0)) }) {
            reaches.insert(ObjectIdentifier(node.output))
            onPath[i] = true
        }

        let wanted = Set(inputs.map { ObjectIdentifier($0) })
        func walk() throws -> [Tensor] {
            var grads: [ObjectIdentifier: Tensor] = [:]
            func accumulate(_ t: Tensor, _ g: Tensor) throws {
                let key = ObjectIdentifier(t)
                if let old = grads[key] { grads[key] = try add(old, g) } else { grads[key] = g }
            }
            for (k, y) in outputs.enumerated() where reaches.contains(ObjectIdentifier(y)) {
                try accumulate(y, seeds?[k] ?? Tensor(filled: 1, shape: y.shape))
            }
            for i in stride(from: tape.count - 1, through: 0, by: -1) where onPath[i] {
                let node = tape[i]
                let key = ObjectIdentifier(node.output)
                guard let g = grads[key] else { continue }
                // Complete here (nodes run in reverse tape order): drop it once used unless asked for.
                if !wanted.contains(key) { grads[key] = nil }
                guard let vjp = node.vjp else {
                    throw TensorError.badArgument(op: op, detail: "op \(node.op) (output \(node.output.shape)) has no differentiable backward")
                }
                let needs = node.inputs.map { reaches.contains(ObjectIdentifier($0)) }
                let gs = try vjp(g, needs)
                for (j, x) in node.inputs.enumerated() where needs[j] {
                    if let gx = gs[j] { try accumulate(x, gx) }
                }
            }
            return inputs.map { grads[ObjectIdentifier($0)] ?? Tensor(zeros: $0.shape) }
        }
        return createGraph ? try walk() : try noGrad { try walk() }
    }
}

extension Tensor {
    /// Back-propagates from this tensor (a scalar loss, or any tensor with an explicit seed gradient).
    public func backward(gradient: Tensor? = nil, onGradReady: ((Tensor) -> Void)? = nil) throws {
        try Autograd.backward(from: self, gradient: gradient, onGradReady: onGradReady)
    }

    /// Adds `count` values from `source` into this tensor's gradient (allocating it if needed).
    @inline(__always)
    public func accumulateGrad(_ source: UnsafePointer<Float>) {
        let g = gradOrCreate().ptr
        for i in 0..<count { g[i] += source[i] }
    }
}
