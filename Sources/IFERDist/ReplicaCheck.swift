import IFERTensor

/// Replica consistency: every rank hashes its parameters (and buffers); one all-gather compares the
/// totals, and only on a mismatch a second all-gather finds the first tensor that differs. Silent
/// divergence (a rank that skipped an update, a non-deterministic reduction) stops the job here
/// instead of producing a model that depends on which rank saved it.
public enum ReplicaCheck {
    /// 64-bit hash of a tensor's exact bits (four independent multiply-xor lanes; not cryptographic).
    public static func hash(_ t: Tensor) -> UInt64 {
        let n = t.count
        var h: (UInt64, UInt64, UInt64, UInt64) = (0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x27D4_EB2F_1656_67C5)
        let m: UInt64 = 0x0000_0100_0000_01B3
        return t.ptr.withMemoryRebound(to: UInt32.self, capacity: n) { p in
            var i = 0
            while i + 4 <= n {
                h.0 = (h.0 ^ UInt64(p[i])) &* m
                h.1 = (h.1 ^ UInt64(p[i + 1])) &* m
                h.2 = (h.2 ^ UInt64(p[i + 2])) &* m
                h.3 = (h.3 ^ UInt64(p[i + 3])) &* m
                i += 4
            }
            while i < n { h.0 = (h.0 ^ UInt64(p[i])) &* m; i += 1 }
            return mix(mix(mix(h.0 ^ UInt64(n)) ^ h.1) ^ h.2) ^ h.3
        }
    }

    static func mix(_ x: UInt64) -> UInt64 { Philox.splitmix(x) }

    /// One hash over all tensors, order-sensitive.
    public static func hash(_ tensors: [Tensor]) -> UInt64 {
        tensors.reduce(0x243F_6A88_85A3_08D3) { mix($0 ^ hash($1)) }
    }

    /// Throws `DistError.mismatch` on every rank (all ranks reach the same verdict) when any rank's
    /// tensors differ from rank 0's, naming the step, the ranks and the first differing tensor.
    public static func verify(_ tensors: [Tensor], comm: Communicator, step: Int) throws {
        guard comm.worldSize > 1 else { return }
        let hashes = tensors.map { Int64(bitPattern: hash($0)) }
        let total = Int64(bitPattern: hashes.reduce(0x243F_6A88_85A3_08D3) { mix($0 ^ UInt64(bitPattern: $1)) })
        let totals = try comm.allGather([total])
        let bad = totals.indices.filter { totals[$0] != totals[0] }
        guard !bad.isEmpty else { return }
        let all = try comm.allGather(hashes)
        let n = tensors.count
        var first = n
        for r in bad {
            for i in 0..<n where all[r * n + i] != all[i] { first = min(first, i); break }
        }
        let name = first < n ? (tensors[first].name.isEmpty ? "tensor \(first)" : "'\(tensors[first].name)' (tensor \(first) of \(n))") : "unknown"
        throw DistError.mismatch("replica check failed at step \(step): rank\(bad.count > 1 ? "s" : "") \(bad.map(String.init).joined(separator: ", ")) "
            + "differ\(bad.count > 1 ? "" : "s") from rank 0; first differing tensor: \(name)")
    }
}
