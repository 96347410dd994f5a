import Foundation
import XCTest
@testable import IFERModels

/// A fixture written by scripts/reference/common.py FixtureWriter: <name>.json holds
/// {"tensors": {name: {"shape", "offset"}}}, <name>.bin the float32 values.
struct Fixture {
    struct Entry: Decodable { let shape: [Int]; let offset: Int }
    struct Index: Decodable { let tensors: [String: Entry] }
    let name: String
    let index: [String: Entry]
    let values: [Float]

    init(_ name: String) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        self.name = name
        index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: dir.appendingPathComponent(name + ".json"))).tensors
        let data = try Data(contentsOf: dir.appendingPathComponent(name + ".bin"))
        values = data.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
    }

    func has(_ key: String) -> Bool { index[key] != nil }

    func tensor(_ key: String, requiresGrad: Bool = false) throws -> Tensor {
        guard let e = index[key] else { throw TensorError.badArgument(op: "fixture \(name)", detail: "no tensor \(key)") }
        let n = e.shape.reduce(1, *)
        return try Tensor(Array(values[e.offset..<(e.offset + n)]), shape: e.shape, requiresGrad: requiresGrad)
    }

    /// Copies every parameter and buffer of `module` from the fixture by state_dict name.
    func load(into module: Module, prefix: String = "") throws {
        for (k, t) in module.namedParameters() + module.namedBuffers() {
            let src = try tensor(prefix + k)
            guard src.shape == t.shape else {
                throw TensorError.shapeMismatch(op: "fixture \(name): \(k)", shapes: [t.shape, src.shape], detail: "")
            }
            try t.assign(src)
        }
    }
}

/// Largest |a − b| over the largest |b| (at least 1e-3, so near-zero tensors are compared absolutely).
func relativeError(_ a: Tensor?, _ b: Tensor) -> Float {
    guard let a, a.count == b.count else { return .infinity }
    var num: Float = 0, den: Float = 1e-3
    for i in 0..<a.count { num = max(num, abs(a.ptr[i] - b.ptr[i])); den = max(den, abs(b.ptr[i])) }
    return num / den
}
