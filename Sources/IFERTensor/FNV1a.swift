/// The one FNV-1a hash of the project (64-bit; Fowler, Noll, Vo): xor a byte into the state, then
/// multiply by the FNV prime. Stable across processes and runs (Swift's `hashValue` is randomized
/// per process), so it names things that must agree between ranks and runs: per-module
/// initialisation keys, random-stream purposes, shard content digests, architecture ids.
/// Not cryptographic.
public struct FNV1a {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The digest of the bytes added so far.
    public private(set) var value: UInt64 = FNV1a.offsetBasis

    public init() {}

    public mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* FNV1a.prime
    }

    public mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for b in bytes { add(b) }
    }

    /// FNV-1a of a string's UTF-8 bytes.
    public static func hash(_ s: String) -> UInt64 {
        var h = FNV1a()
        h.add(s.utf8)
        return h.value
    }
}
