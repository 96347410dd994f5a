/// Activation checkpointing (PyTorch's `torch.utils.checkpoint`): trade compute for memory by
/// keeping only a block's inputs on the tape and recomputing the block during backward.
///
///   forward:  outputs = body(inputs) runs without recording (no activation inside the block is
///             kept); one tape node per output is recorded, reading the inputs and the block's
///             parameters.
///   backward: when the walk reaches the block, `body` runs again on fresh leaves that share the
///             inputs' storage, this time recording onto a sub-tape of its own; the outputs'
///             gradients are back-propagated through that sub-tape (into the parameters' `.grad`
///             directly, into the leaves' `.grad`, which is the inputs' own), and the
///             sub-tape with its activations is dropped before the outer walk goes on.
///
/// The peak then holds the saved block inputs plus one block's activations, instead of every
/// block's activations. The price is a second forward of each checkpointed block.
///
/// Randomness: `body` receives the random generators it may draw from (drop path). The forward
/// uses (and advances) the caller's generators; the recompute gets a copy of their state from
/// before the forward, so it draws the same masks and the gradients equal the plain ones.
///
/// Second order: a checkpointed block has no differentiable backward (`VJP`), so `Autograd.grad`
/// through it (R1, path length) throws a message that names the block. Keep checkpointing out of
/// anything differentiated twice.
extension Autograd {
    /// With `measuresTape`: the largest sub-tape (bytes of op outputs) a checkpointed block held during one recompute since
    /// `resetRecomputePeak()`: the extra activations a checkpointed backward needs on top of the
    /// saved block inputs (for memory reports).
    public internal(set) static var recomputeTapeBytesPeak = 0
    /// Zeroes `recomputeTapeBytesPeak` and `backwardTapeBytesPeak`.
    public static func resetRecomputePeak() {
        recomputeTapeBytesPeak = 0
        backwardTapeBytesPeak = 0
    }

    /// The block's body: inputs (fresh leaves during the recompute) and the block's random
    /// generators -> outputs. Must be a pure function of those, the block's parameters and
    /// constants it captures (it runs twice).
    public typealias CheckpointBody = (_ inputs: [Tensor], _ rngs: inout [Philox]) throws -> [Tensor]

    /// outputs = body(inputs, &rngs) with activation checkpointing (see the file's comment).
    ///   op: names the block in errors; inputs: the tensors the body reads that may need a
    ///   gradient (activations, codes; constants may be passed too); parameters: every parameter
    ///   the body reads (frozen ones included: their `requiresGrad` is read at backward time).
    /// Outside recording (`noGrad`, or nothing requires a gradient) this is just `body`.
    public static func checkpoint(_ op: String, inputs: [Tensor], parameters: [Tensor], rngs: inout [Philox],
                                  _ body: @escaping CheckpointBody) throws -> [Tensor] {
        let reads = inputs + parameters
        guard needsGrad(reads) else { return try body(inputs, &rngs) }

        let savedRNG = rngs
        var outputs = try noGrad { try body(inputs, &rngs) }
        // An output that is one of the block's inputs gets a tensor of its own (a view), so its
        // tape node does not point at itself.
        let readIDs = Set(reads.map { ObjectIdentifier($0) })
        outputs = outputs.map { readIDs.contains(ObjectIdentifier($0)) ? $0.detach() : $0 }

        // One node per output, recorded back to back: every consumer of an output comes later on
        // the tape, so when the reverse walk reaches the first of these nodes (the last output's)
        // all the outputs' gradients are final. That node recomputes; the others then do nothing.
        let outs = outputs
        var done = false
        let vjp: VJP = { _, _ in
            throw TensorError.badArgument(op: "Autograd.grad", detail: "\(op) is activation-checkpointed and has no differentiable backward; second-order gradients (createGraph, R1, path length) cannot pass through it: set model.activation_checkpointing to none for this network")
        }
        for y in outputs {
            record("checkpoint(\(op))", output: y, inputs: reads, vjp: vjp) { _ in
                guard !done else { return }
                done = true
                try recompute(op, inputs: inputs, outputs: outs, rngs: savedRNG, body)
            }
        }
        return outputs
    }

    /// The backward of a checkpointed block: body again on a sub-tape, then the walk over it.
    static func recompute(_ op: String, inputs: [Tensor], outputs: [Tensor], rngs: [Philox],
                          _ body: CheckpointBody) throws {
        let outer = nodes
        let wasEnabled = isEnabled
        nodes = []
        isEnabled = true
        defer {
            nodes = outer
            isEnabled = wasEnabled
        }
        // Leaves: same storage, own identity, so the recomputed graph stops at the block's inputs.
        let leaves = inputs.map { x -> Tensor in
            guard x.kind != .parameter else { return x }
            let leaf = x.detach()
            leaf.requiresGrad = x.requiresGrad
            return leaf
        }
        var replay = rngs
        let again = try body(leaves, &replay)
        guard again.count == outputs.count else {
            throw TensorError.badArgument(op: "checkpoint(\(op))", detail: "the recompute gave \(again.count) outputs, the forward \(outputs.count)")
        }
        for (y, y2) in zip(outputs, again) {
            try check(y.shape == y2.shape, "checkpoint(\(op))", [y.shape, y2.shape], "the recompute must give the forward's shapes")
        }
        if measuresTape { recomputeTapeBytesPeak = max(recomputeTapeBytesPeak, tapeBytes) }
        // Seed the recomputed outputs with the outer gradients, then walk the sub-tape.
        for (y, y2) in zip(outputs, again) where y2.requiresGrad {
            if let g = y.grad { y2.accumulateGrad(g.ptr) }
        }
        // Each leaf accumulates straight into its input's gradient (the same tensor), so an input
        // that other ops also read (a feature map several blocks share) sums its gradient with the
        // same additions in the same order as without checkpointing: the result is bitwise equal.
        for (x, leaf) in zip(inputs, leaves) where leaf !== x && x.requiresGrad { leaf.grad = x.grad }
        try walkTape(onGradReady: nil)
        nodes.removeAll()
        for (x, leaf) in zip(inputs, leaves) where leaf !== x && x.requiresGrad { x.grad = leaf.grad }
    }
}
