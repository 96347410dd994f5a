import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTools

/// The PyTorch peer's ASIT-like step rebuilt from our layers (Sources/IFERTools/PeerASIT.swift):
/// the same parameter counts as `peer_bench.py arch`, a training step that lowers the loss, the
/// two modulated-conv forms computing the same function, and the data-parallel bench under mpirun.
final class PeerStepTests: XCTestCase {
    /// Printed by `.venv-peer/bin/python /work/shared/peers/peer_bench.py arch` (torch 2.13.0+cpu).
    let peerArch: [String: Int] = [
        "encoder_params": 883136, "encoder_patch_pos": 14464, "encoder_block_params_each": 198272,
        "encoder_head_params": 75328, "generator_params": 347148, "generator_modconv3x3_each": 41088,
        "generator_torgb_each": 4355, "discriminator_params": 765376, "total_params": 1995660,
        "trainable_params": 883136,
    ]

    func testParameterCountsEqualThePeers() throws {
        let m = PeerASIT()
        XCTAssertEqual(m.counts, peerArch)
        XCTAssertEqual(PeerASIT.peerCounts, peerArch)
        XCTAssertNoThrow(try m.checkCounts())
        // Only the encoder trains.
        XCTAssertTrue(m.enc.namedParameters().allSatisfy { $0.tensor.requiresGrad })
        XCTAssertTrue((m.gen.namedParameters() + m.disc.namedParameters()).allSatisfy { !$0.tensor.requiresGrad })
        XCTAssertEqual(m.namedParameters().first?.key, "enc.pos")
        XCTAssertTrue(m.namedParameters().contains { $0.key == "gen.convs.7.affine.bias" })
    }

    func testStepsLowerTheLossAndTouchOnlyTheEncoder() throws {
        Threads.setBLAS(1)
        let t = try PeerStepBench.Trainer(comm: SingleProcess(), mode: .scale, batch: 2, lr: 1e-3)
        defer { t.close() }
        let genBefore = t.model.gen.convList[0].weight.array
        let posBefore = t.model.enc.pos.array
        var losses: [Float] = []
        for _ in 0..<4 { losses.append(try t.step()) }
        XCTAssertTrue(losses.allSatisfy { $0.isFinite }, "\(losses)")
        XCTAssertLessThan(losses[3], losses[0], "losses \(losses)")
        XCTAssertEqual(t.model.gen.convList[0].weight.array, genBefore, "the generator is frozen")
        XCTAssertNotEqual(t.model.enc.pos.array, posBefore, "the encoder trains")
        XCTAssertEqual(Autograd.tapeLength, 0)
    }

    /// The grouped form (per-sample weights, B groups) equals the scale form, values and gradients.
    func testModConvFormsAgree() throws {
        var rng = Philox(seed: 3)
        let m = PeerModConv(8, 6, kernel: 3)
        m.resetAll(seed: 5)
        m.resetAffineBias()
        let x = Tensor.randn([2, 8, 5, 5], &rng); x.requiresGrad = true
        let w = Tensor.randn([2, PeerArch.styleDim], &rng); w.requiresGrad = true
        var results: [([Float], [Float], [Float])] = []
        for mode in PeerModConvMode.allCases {
            m.mode = mode
            x.grad = nil; w.grad = nil
            for (_, p) in m.namedParameters() { p.grad = nil }
            let y = try m(x, w)
            XCTAssertEqual(y.shape, [2, 6, 5, 5])
            try sumAll(square(y)).backward()
            results.append((y.array, try XCTUnwrap(x.grad).array, try XCTUnwrap(w.grad).array))
        }
        XCTAssertEqual(results.count, 2)
        XCTAssertGreaterThan(results[0].2.map { Swift.abs($0) }.max() ?? 0, 0, "the style gradient reaches w")
        for (a, b) in zip([results[0].0, results[0].1, results[0].2], [results[1].0, results[1].1, results[1].2]) {
            let scaleMax = a.map { Swift.abs($0) }.max() ?? 1
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-4 * Swift.max(scaleMax, 1)) }
        }
    }

    /// `mpirun -np 2 ifer bench step --model peer`: one line with the total, the single-process
    /// rate measured in the same run, and identical replicas after the data-parallel steps.
    func testDataParallelBenchUnderMPI() throws {
        let out = try IferProcess.run(ranks: 2, ["bench", "step", "--model", "peer", "--json", "--reps", "2", "--batch", "2"], timeout: 120)
        XCTAssertEqual(out.status, 0, out.all)
        let lines = out.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let arch = try XCTUnwrap(lines.first { $0["case"] as? String == "arch" }, out.all)
        XCTAssertEqual(arch["trainable_params"] as? Int, 883136)
        let ddp = try XCTUnwrap(lines.first { $0["case"] as? String == "asit_step_b2_ddp" }, out.all)
        XCTAssertEqual(ddp["world"] as? Int, 2)
        XCTAssertEqual(ddp["replicas_identical"] as? Bool, true)
        let total = try XCTUnwrap(ddp["images_per_s"] as? Double), single = try XCTUnwrap(ddp["single_images_per_s"] as? Double)
        let eff = try XCTUnwrap(ddp["scaling_efficiency"] as? Double)
        XCTAssertGreaterThan(total, 0)
        XCTAssertEqual(eff, total / (2 * single), accuracy: 1e-3)
    }
}
