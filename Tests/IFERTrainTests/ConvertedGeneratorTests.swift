import Foundation
import XCTest
@testable import IFERTrain

/// A micro StyleGAN2 converted from a rosinality-style torch checkpoint by
/// scripts/convert/to_ifer.py loads by name through the checkpoint reader and reproduces the
/// PyTorch reference's image (Tests/IFERModelsTests/Fixtures, written by make_fixtures.py).
final class ConvertedGeneratorTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("IFERModelsTests/Fixtures")

    /// Reads one tensor from a FixtureWriter pair (<name>.json index + <name>.bin float32).
    private func fixtureTensor(_ name: String, _ key: String) throws -> Tensor {
        struct Entry: Decodable { let shape: [Int]; let offset: Int }
        struct Index: Decodable { let tensors: [String: Entry] }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: fixtures.appendingPathComponent(name + ".json")))
        guard let e = index.tensors[key] else { throw TensorError.badArgument(op: "fixture", detail: "no \(key) in \(name)") }
        let data = try Data(contentsOf: fixtures.appendingPathComponent(name + ".bin"))
        let all = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let n = e.shape.reduce(1, *)
        return try Tensor(Array(all[e.offset..<(e.offset + n)]), shape: e.shape)
    }

    func testConvertedRosinalityGeneratorLoadsAndMatchesTorch() throws {
        let path = fixtures.appendingPathComponent("generator_micro.h5").path
        let reader = try CheckpointReader(path: path)
        defer { reader.close() }
        XCTAssertEqual(reader.header.stage, "generator")
        let model = try ModelConfig(yaml: reader.header.config)     // the converter stored our YAML
        let g = Generator(model.generator)
        let latentAvg = Tensor(zeros: [model.generator.styleDim])
        try reader.loadInto(params: g.namedParameters(prefix: "decoder.").map { (key: $0.0, tensor: $0.1) },
                            buffers: g.namedBuffers(prefix: "decoder.").map { (key: $0.0, tensor: $0.1) } + [(key: "latent_avg", tensor: latentAvg)])
        XCTAssertGreaterThan(latentAvg.array.map(abs).max() ?? 0, 0, "latent_avg was computed by the converter")
        let out = try Autograd.noGrad {
            try g(try fixtureTensor("generator", "latents"), structure: try fixtureTensor("generator", "structure"))
        }
        let want = try fixtureTensor("generator", "output")
        var err: Float = 0, scale: Float = 1e-3
        for i in 0..<want.count { err = max(err, abs(out.image.ptr[i] - want.ptr[i])); scale = max(scale, abs(want.ptr[i])) }
        XCTAssertLessThan(err / scale, 1e-4)
    }
}
