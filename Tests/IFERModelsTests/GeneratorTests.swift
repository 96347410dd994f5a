import XCTest
@testable import IFERModels

final class GeneratorTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    private func microGenerator() throws -> Generator {
        Generator(try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/asit.yaml").path).generator)
    }

    /// Forward (image and every feature tap) and the gradients to latents, structure code and all
    /// weights match the PyTorch reference (grouped per-sample modulated conv).
    func testMatchesReferenceWithStructureCode() throws {
        let fx = try Fixture("generator")
        let g = try microGenerator()
        try fx.load(into: g)
        let latents = try fx.tensor("latents", requiresGrad: true)
        let structure = try fx.tensor("structure", requiresGrad: true)
        let out = try g(latents, structure: structure)
        XCTAssertLessThan(relativeError(out.image, try fx.tensor("output")), 1e-4, "image")
        for (r, f) in out.features { XCTAssertLessThan(relativeError(f, try fx.tensor("features.\(r)")), 1e-4, "features \(r)") }
        XCTAssertEqual(Set(out.features.keys), [4, 8, 16, 32])
        try out.image.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(latents.grad, try fx.tensor("grad.latents")), 1e-4, "d latents")
        XCTAssertLessThan(relativeError(structure.grad, try fx.tensor("grad.structure")), 1e-4, "d structure")
        var checked = 0
        for (k, p) in g.namedParameters() where fx.has("grad." + k) {
            XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + k)), 1e-4, "d \(k)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// The mapping network and the constant-input path (sampling from z).
    func testMappingAndConstantInputMatchReference() throws {
        let weights = try Fixture("generator"), fx = try Fixture("generator_sample")
        let g = try microGenerator()
        try weights.load(into: g)
        let z = try fx.tensor("z", requiresGrad: true)
        XCTAssertLessThan(relativeError(try Autograd.noGrad { try g.mapping(z) }, try fx.tensor("w")), 1e-4, "w")
        let out = try g.sample(z)
        XCTAssertLessThan(relativeError(out.image, try fx.tensor("output")), 1e-4, "image")
        try out.image.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(z.grad, try fx.tensor("grad.z")), 1e-4, "d z")
        for key in ["style.1.weight", "style.2.bias", "input.input", "convs.0.conv.weight"] {
            let p = g.namedParameters().first { $0.0 == key }!.1
            XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + key)), 1e-4, "d \(key)")
        }
    }

    func testMeanLatentAndRandomNoise() throws {
        let g = try microGenerator()
        g.resetAll(seed: 4)
        var rng = Philox(seed: 9)
        let m = try g.meanLatent(samples: 1000, rng: &rng, chunk: 300)
        XCTAssertEqual(m.shape, [32])
        // The same mean computed in one chunk.
        var rng2 = Philox(seed: 9)
        let m2 = try g.meanLatent(samples: 1000, rng: &rng2, chunk: 1000)
        XCTAssertLessThan(relativeError(m, m2), 1e-5)
        var rngs = [Philox(seed: 1, 0), Philox(seed: 1, 1)]
        let noise = g.randomNoise(rngs: &rngs)
        XCTAssertEqual(noise.map(\.shape), g.noises.maps.map { [2] + $0.shape.dropFirst() })
        // Row 1 depends only on its own generator.
        var solo = [Philox(seed: 1, 1)]
        XCTAssertEqual(Array(noise[3].array[(16 * 16)...]), g.randomNoise(rngs: &solo)[3].array)
    }

    func testBadInputsThrow() throws {
        let g = try microGenerator()
        XCTAssertThrowsError(try g(Tensor(zeros: [2, 7, 32]))) { XCTAssertTrue("\($0)".contains("[B, 8, 32]")) }
        XCTAssertThrowsError(try g(Tensor(zeros: [2, 8, 32]), structure: Tensor(zeros: [2, 16, 4, 4])))
        XCTAssertThrowsError(try g(Tensor(zeros: [2, 8, 32]), noise: []))
    }
}
