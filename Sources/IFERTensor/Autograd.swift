/// Reverse-mode automatic differentiation on a dynamic tape.
///
/// Every op that reads a tensor with `requiresGrad` appends a node (its inputs, its output and a
/// closure that turns the output's gradient into input gradients) to the current tape. `backward`
/// walks the tape in reverse, then clears it, which releases every activation the tape held.
/// Gradients accumulate (`+=`) so micro-batches can be summed before an optimizer step.
public enum Autograd {
    /// False inside `noGrad`: ops then record nothing and outputs never require gradients.
    public internal(set) static var isEnabled = true
    static var nodes: [Node] = []

    struct Node {
        let op: String
        let inputs: [Tensor]
        let output: Tensor
        let backward: (Tensor) -> Void
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
    @discardableResult
    public static func record(_ op: String, output: Tensor, inputs: [Tensor],
                              backward: @escaping (Tensor) -> Void) -> Tensor {
        guard needsGrad(inputs) else { return output }
        output.requiresGrad = true
        nodes.append(Node(op: op, inputs: inputs, output: output, backward: backward))
        return output
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

        let rootGrad = root.gradOrCreate()
        if let g = gradient {
            rootGrad.ptr.update(from: g.ptr, count: g.count)
        } else {
            rootGrad.ptr[0] += 1
        }
        // Parameters read by a node that backward actually ran: only those are reported, so
        // stale nodes left on the tape (a forward without backward) never fire the hook.
        var reached = Set<ObjectIdentifier>()
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            let node = nodes[i]
            if let g = node.output.grad {
                node.backward(g)
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
