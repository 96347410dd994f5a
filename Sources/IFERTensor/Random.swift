import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), a counter-based
/// generator: output block i is a pure function of (key, i). A stream is a key; keys derive from
/// (seed, purpose, epoch, global sample index ...) so per-sample randomness does not depend on
/// which rank draws it or how many ranks there are.
///
/// State is (key, counter, position within the current 4-word block) and is saved and restored
/// exactly with `state` / `init(state:)`.
public struct Philox: Equatable, Sendable {
    public private(set) var key: UInt64
    public private(set) var counter: UInt64
    private var block: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var position: Int = 4  // 4 = block exhausted

    public init(key: UInt64, counter: UInt64 = 0) {
        self.key = key
        self.counter = counter
    }

    /// A key derived from a seed and any number of stream identifiers (SplitMix64 mixing).
    public init(seed: UInt64, _ stream: UInt64...) {
        self.init(key: Philox.deriveKey(seed: seed, stream))
    }

    public static func deriveKey(seed: UInt64, _ stream: [UInt64]) -> UInt64 {
        var h = splitmix(seed ^ 0x9E37_79B9_7F4A_7C15)
        for s in stream { h = splitmix(h ^ splitmix(s &+ 0x6A09_E667_F3BC_C909)) }
        return h
    }

    /// SplitMix64's finaliser (Steele et al.): a bijective 64-bit mix.
    public static func splitmix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Exact state as four words: key, counter, position, 0 (reserved).
    public var state: [UInt64] { [key, counter, UInt64(position), 0] }

    public init(state: [UInt64]) throws {
        guard state.count == 4, state[2] <= 4 else {
            throw TensorError.badArgument(op: "Philox.init(state:)", detail: "expected 4 words with position <= 4, got \(state)")
        }
        key = state[0]
        counter = state[1]
        position = 4
        if state[2] < 4 {
            // Regenerate the block that was being consumed: it came from counter - 1.
            block = Philox.philox(counter: counter &- 1, key: key)
            position = Int(state[2])
        }
    }

    public static func == (l: Philox, r: Philox) -> Bool { l.state == r.state }

    static func philox(counter: UInt64, key: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: key), k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n1 = UInt32(truncatingIfNeeded: p1)
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            let n3 = UInt32(truncatingIfNeeded: p0)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// Next 32 random bits.
    public mutating func next() -> UInt32 {
        if position == 4 {
            block = Philox.philox(counter: counter, key: key)
            counter &+= 1
            position = 0
        }
        defer { position += 1 }
        switch position {
        case 0: return block.0
        case 1: return block.1
        case 2: return block.2
        default: return block.3
        }
    }

    /// Uniform in [0, 1) with 24 bits of resolution.
    public mutating func uniform() -> Float { Float(next() >> 8) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform integer in 0..<n (n > 0), without modulo bias.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let x = (UInt64(next()) << 32) | UInt64(next())
        return Int(x % bound)  // bias < n / 2^64: negligible for any n we use
    }

    /// Standard normal (Box-Muller; one normal per two uniforms, so the state stays simple).
    public mutating func normal() -> Float {
        let u1 = max(Double(next()) * (1.0 / 4_294_967_296.0), 1e-300)
        let u2 = Double(next()) * (1.0 / 4_294_967_296.0)
        return Float(sqrt(-2 * log(u1)) * cos(2 * Double.pi * u2))
    }

    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }

    /// Normal(mean, std) restricted to [low, high] by rejection (timm's trunc_normal_ semantics:
    /// the bounds are absolute values, not multiples of std).
    public mutating func truncatedNormal(mean: Float = 0, std: Float = 1, low: Float = -2, high: Float = 2) -> Float {
        for _ in 0..<1000 {
            let x = normal(mean: mean, std: std)
            if x >= low && x <= high { return x }
        }
        return min(max(mean, low), high)
    }

    public mutating func bernoulli(_ p: Float) -> Bool { uniform() < p }

    /// Fisher-Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) }
        }
        return p
    }
}

extension Tensor {
    /// Fills with uniform values in [low, high).
    public func fillUniform(_ rng: inout Philox, low: Float = 0, high: Float = 1) {
        for i in 0..<count { ptr[i] = rng.uniform(low, high) }
    }

    public func fillNormal(_ rng: inout Philox, mean: Float = 0, std: Float = 1) {
        for i in 0..<count { ptr[i] = rng.normal(mean: mean, std: std) }
    }

    public func fillTruncatedNormal(_ rng: inout Philox, mean: Float = 0, std: Float = 1, low: Float = -2, high: Float = 2) {
        for i in 0..<count { ptr[i] = rng.truncatedNormal(mean: mean, std: std, low: low, high: high) }
    }

    /// 1 with probability p, else 0.
    public func fillBernoulli(_ rng: inout Philox, p: Float) {
        for i in 0..<count { ptr[i] = rng.bernoulli(p) ? 1 : 0 }
    }

    public static func randn(_ shape: [Int], _ rng: inout Philox, std: Float = 1) -> Tensor {
        let t = Tensor(zeros: shape)
        t.fillNormal(&rng, std: std)
        return t
    }
}
