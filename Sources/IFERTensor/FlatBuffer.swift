/// Packs a list of tensors into one contiguous Storage, in registration order, and (for
/// parameters) gives each one a gradient that is a view into a second contiguous Storage.
///
/// This is the llm.c layout: one buffer of parameters, one of gradients. The optimizer walks
/// them as flat arrays, and the data-parallel all-reduce sends (buckets of) the gradient buffer
/// as it is, without gathering.
public final class FlatBuffer {
    public let tensors: [Tensor]
    /// Start of each tensor in the flat buffers (aligned to 16 floats).
    public let offsets: [Int]
    public let values: Storage
    public let grads: Storage?

    /// Total floats including alignment padding.
    public var count: Int { values.count }

    public init(_ tensors: [Tensor], withGradients: Bool) {
        var offsets: [Int] = []
        var n = 0
        for t in tensors {
            offsets.append(n)
            n += (t.count + 15) / 16 * 16
        }
        self.tensors = tensors
        self.offsets = offsets
        self.values = Storage(count: n)
        self.grads = withGradients ? Storage(count: n) : nil
        for (i, t) in tensors.enumerated() {
            t.rebind(to: values, offset: offsets[i])
            t.flatIndex = i
            if let g = grads {
                t.grad = Tensor(view: g, offset: offsets[i], shape: t.shape)
            }
        }
    }

    public func zeroGrad() {
        grads?.base.update(repeating: 0, count: count)
    }

    /// Float range [start, end) of tensor `i` in the flat buffers, without padding.
    public func range(of i: Int) -> Range<Int> { offsets[i]..<(offsets[i] + tensors[i].count) }
}
