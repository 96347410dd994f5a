import XCTest
@testable import IFERModels

/// The two second-order penalties of StyleGAN2 training (rosinality train.py) on the micro
/// modules, against PyTorch with create_graph=True on the same weights and inputs
/// (fixtures from scripts/golden/second_order_models.py).
final class SecondOrderModelTests: XCTestCase {
    override func tearDown() { Autograd.reset() }

    private func config() throws -> ModelConfig {
        try ModelConfig(file: repoRoot.appendingPathComponent("configs/micro/asit.yaml").path)
    }

    /// Lazy R1: gamma/2 · mean_i ||d D(x_i) / d x_i||² on real images, back-propagated to every
    /// discriminator parameter (through the ResNet blocks, blur, strided and 1x1 convs, fused
    /// leaky ReLUs, minibatch stddev and the equalised linears).
    func testR1PenaltyGradientsMatchPyTorch() throws {
        let weights = try Fixture("stylegan_discriminator"), fx = try Fixture("r1_penalty")
        let d = StyleGANDiscriminator(try config().discriminator)
        try weights.load(into: d)
        let x = try fx.tensor("x", requiresGrad: true)
        let b = x.dim(0), gamma: Float = 10
        let pred = try d(x)                                                              // [B, 1]
        let gradReal = try Autograd.grad(of: [sumAll(pred)], wrt: [x], createGraph: true)[0]   // [B, 3, H, W]
        XCTAssertTrue(gradReal.requiresGrad)
        XCTAssertLessThan(relativeError(gradReal, try fx.tensor("grad_real")), 1e-4, "d D(x) / dx")
        let perImage = try sum(square(try reshape(gradReal, [b, -1])), axes: [1])        // [B]
        let penalty = meanAll(perImage)
        XCTAssertLessThan(relativeError(try reshape(penalty, [1]), try fx.tensor("penalty")), 1e-4, "penalty")
        try scale(penalty, gamma / 2).backward()
        var checked = 0
        for (k, p) in d.namedParameters() {
            // No gradient at all (the last biases: D's input gradient does not depend on them) is zero.
            XCTAssertLessThan(relativeError(p.grad ?? Tensor(zeros: p.shape), try fx.tensor("grad." + k)), 1e-3, "d R1 / d \(k)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    /// Path-length regularisation: grad of sum(G(w) · noise/√(HW)) with respect to the W+
    /// latents (w = mapping(z), repeated), its per-sample norm's deviation from a running mean,
    /// back-propagated to every generator parameter (mapping, modulated convs, up-sampling
    /// transposed convs and blurs, noise injection, ToRGB and its up-sampled skip).
    func testPathLengthPenaltyGradientsMatchPyTorch() throws {
        let weights = try Fixture("generator"), fx = try Fixture("path_length")
        let g = Generator(try config().generator)
        try weights.load(into: g)
        let z = try fx.tensor("z"), noise = try fx.tensor("noise")
        let b = z.dim(0), n = g.config.nLatent, s = g.config.styleDim, meanPathLength: Float = 0.5
        let w = try g.mapping(z)                                                         // [B, S]
        let latents = try add(Tensor(zeros: [b, n, s]), try reshape(w, [b, 1, s]))      // [B, n_latent, S]
        let image = try g(latents).image                                                 // [B, 3, H, W]
        let grad = try Autograd.grad(of: [image], wrt: [latents], seeds: [noise], createGraph: true)[0]
        XCTAssertLessThan(relativeError(grad, try fx.tensor("grad_latents")), 1e-4, "d sum(G · noise) / d latents")
        let lengths = sqrt(try mean(try sum(square(grad), axes: [2]), axes: [1]))        // [B]
        XCTAssertLessThan(relativeError(lengths, try fx.tensor("path_lengths")), 1e-4, "path lengths")
        let pathMean = addScalar(scale(addScalar(meanAll(lengths), -meanPathLength), 0.01), meanPathLength)
        let penalty = meanAll(square(try sub(lengths, pathMean)))
        XCTAssertLessThan(relativeError(try reshape(penalty, [1]), try fx.tensor("penalty")), 1e-4, "penalty")
        try penalty.backward()
        var checked = 0
        for (k, p) in g.namedParameters() where fx.has("grad." + k) {
            // No gradient at all (the ToRGB biases: they shift the image, not its latent gradient) is zero.
            XCTAssertLessThan(relativeError(p.grad ?? Tensor(zeros: p.shape), try fx.tensor("grad." + k)), 1e-3,
                              "d path penalty / d \(k)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 40)
    }
}
