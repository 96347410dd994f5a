import XCTest
@testable import IFERTensor
@testable import IFERModels

final class DiscriminatorTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    private func micro() throws -> InversionDiscriminator {
        InversionDiscriminator(try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/asit.yaml").path).discriminator)
    }

    func testMatchesReference() throws {
        let fx = try Fixture("discriminator")
        let d = try micro()
        try fx.load(into: d)
        let a = try fx.tensor("a", requiresGrad: true), b = try fx.tensor("b", requiresGrad: true)
        XCTAssertLessThan(relativeError(try Autograd.noGrad { try d.modelQ(a) }, try fx.tensor("q_embedding")), 1e-4, "q(a)")
        let out = try d(a, b)
        XCTAssertEqual(out.shape, [2, 1])
        XCTAssertLessThan(relativeError(out, try fx.tensor("output")), 1e-4, "cos")
        try out.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(a.grad, try fx.tensor("grad.a")), 1e-4, "d a")
        // The cosine of two nearly parallel embeddings cancels most of b's gradient (|d b| ~ 1e-4
        // from terms ~1e-2), which magnifies the Winograd convolutions' ~5e-6 rounding; the exact
        // im2col path meets the reference at 1e-4 below.
        XCTAssertLessThan(relativeError(b.grad, try fx.tensor("grad.b")), 5e-3, "d b (through the key branch)")
        for (k, p) in d.namedParameters() {
            XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + k)), 1e-4, "d \(k)")
        }
        XCTAssertTrue(d.namedBuffers().allSatisfy { $0.1.grad == nil }, "model_k must get no gradient")

        Winograd.forced = false
        defer { Winograd.forced = nil }
        b.grad = nil
        try d(a, b).backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(b.grad, try fx.tensor("grad.b")), 1e-4, "d b through im2col convolutions")
    }

    func testFreshKeyEqualsQueryAndMomentumUpdate() throws {
        let d = try micro()
        d.resetAll(seed: 11)
        let q = d.modelQ.namedParameters(), k = d.modelK.buffers
        for ((_, tq), (_, tk)) in zip(q, k.prefix(q.count)) { XCTAssertEqual(tq.array, tk.array) }
        let key = "convs.0.0.weight"
        let tq = q.first { $0.0 == key }!.1, tk = k.first { $0.0 == key }!.1
        let before = tk.array
        for i in 0..<tq.count { tq.ptr[i] += 1 }
        d.momentumUpdate(0.9)
        for i in 0..<tq.count { XCTAssertEqual(tk.ptr[i], 0.9 * before[i] + 0.1 * tq.ptr[i], accuracy: 1e-6) }
    }
}

final class StyleGANDiscriminatorTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    func testMatchesReference() throws {
        let fx = try Fixture("stylegan_discriminator")
        let d = StyleGANDiscriminator(try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/generator.yaml").path).discriminator)
        try fx.load(into: d)
        let x = try fx.tensor("x", requiresGrad: true)
        let out = try d(x)
        XCTAssertEqual(out.shape, [8, 1])
        XCTAssertLessThan(relativeError(out, try fx.tensor("output")), 1e-4)
        try out.backward(gradient: fx.tensor("seed"))
        XCTAssertLessThan(relativeError(x.grad, try fx.tensor("grad.x")), 1e-4, "d x")
        for (k, p) in d.namedParameters() { XCTAssertLessThan(relativeError(p.grad, try fx.tensor("grad." + k)), 1e-4, "d \(k)") }
        XCTAssertThrowsError(try d(Tensor(zeros: [6, 3, 32, 32]))) { XCTAssertTrue("\($0)".contains("stddev group")) }
    }
}
