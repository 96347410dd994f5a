import IFERLayers

/// rosinality's `make_kernel`: the outer product of a 1-D tap list, normalised to sum 1.
public func makeFIRKernel(_ taps: [Float]) -> [Float] {
    let n = taps.count
    var k = [Float](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { k[i * n + j] = taps[i] * taps[j] } }
    let s = k.reduce(0, +)
    return k.map { $0 / s }
}

/// A fixed FIR filter through upfirdn2d: zero-insert up-sampling by `up`, padding, 2-D FIR,
/// down-sampling by `down`. Covers rosinality's `Blur` (after the up-sampling transposed conv,
/// gain 4; before the discriminator's strided convs, gain 1) and `Upsample` (ToRGB skip: up 2,
/// gain 4). The kernel is a buffer named `kernel` [k, k], normalised then multiplied by `gain`
/// so an up-sampled image keeps its brightness.
///   x [N, C, H, W] -> [N, C, (H·up + pad0 + pad1 − k + 1) / down, …]
public final class FIRFilter: Layer {
    public let kernel: Tensor
    public let size: Int
    public let up: Int, down: Int
    public let pad: (Int, Int)

    public init(taps: [Float], gain: Float = 1, up: Int = 1, down: Int = 1, pad: (Int, Int)) {
        self.size = taps.count
        self.up = up
        self.down = down
        self.pad = pad
        self.kernel = buffer([taps.count, taps.count])
        for (i, v) in makeFIRKernel(taps).enumerated() { kernel.ptr[i] = v * gain }
    }

    public var buffers: [(String, Tensor)] { [("kernel", kernel)] }

    public func outputSize(_ h: Int) -> Int { (h * up + pad.0 + pad.1 - size) / down + 1 }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try upfirdn2d(x, kernel: kernel.array, k: size, up: up, down: down, pad: pad)
    }
}
