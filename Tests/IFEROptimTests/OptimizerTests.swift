import Foundation
import XCTest
@testable import IFEROptim

/// Trajectories against torch.optim (scripts/golden/optim.py): same initial values, same gradients,
/// parameters after every step.
final class OptimizerTests: XCTestCase {
    struct Case: Decodable { let initial: [Float]; let grads: [[Float]]; let traj: [[Float]]; let lr: Float
        enum CodingKeys: String, CodingKey { case initial = "init", grads, traj, lr } }

    static let cases: [String: Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/optim.json")
        return (try? JSONDecoder().decode([String: Case].self, from: Data(contentsOf: url))) ?? [:]
    }()

    /// A weight [3, 4] and a bias [4] packed in a flat buffer, as a model would register them.
    func model(_ c: Case) throws -> (FlatBuffer, Tensor, Tensor) {
        let w = try Tensor(Array(c.initial[0..<12]), shape: [3, 4]); w.name = "fc.weight"
        let b = try Tensor(Array(c.initial[12..<16]), shape: [4]); b.name = "fc.bias"
        for t in [w, b] { t.kind = .parameter; t.requiresGrad = true }
        return (FlatBuffer([w, b], withGradients: true), w, b)
    }

    func replay(_ name: String, tol: Float = 2e-5, _ make: (FlatBuffer) throws -> Optimizer) throws {
        let c = try XCTUnwrap(Self.cases[name], "fixture \(name) missing")
        let (flat, w, b) = try model(c)
        let opt = try make(flat)
        for (s, g) in c.grads.enumerated() {
            w.grad!.ptr.update(from: Array(g[0..<12]), count: 12)
            b.grad!.ptr.update(from: Array(g[12..<16]), count: 4)
            try opt.step(lr: c.lr)
            let ours = w.array + b.array
            XCTAssertLessThan(relError(ours, c.traj[s]), tol, "\(name) step \(s + 1)")
        }
    }

    func testSGD() throws { try replay("sgd") { try SGD($0) } }
    func testSGDMomentumWithDecay() throws { try replay("sgd_momentum") { try SGD($0, momentum: 0.9, weightDecay: 0.01) } }
    func testSGDNesterov() throws { try replay("sgd_nesterov") { try SGD($0, momentum: 0.9, nesterov: true) } }
    func testAdam() throws { try replay("adam") { try Adam($0, weightDecay: 0.01, decoupled: false) } }
    func testAdamW() throws { try replay("adamw") { try Adam.adamW($0, weightDecay: 0.05) } }
    func testRanger() throws { try replay("ranger", tol: 1e-4) { try Ranger($0) } }

    func testStateRoundTripContinuesExactly() throws {
        let c = try XCTUnwrap(Self.cases["adamw"])
        let (f1, w1, b1) = try model(c), (f2, w2, b2) = try model(c)
        let o1 = try Adam.adamW(f1), o2 = try Adam.adamW(f2)
        for (i, g) in c.grads.enumerated() {
            for (w, b) in [(w1, b1), (w2, b2)] {
                w.grad!.ptr.update(from: Array(g[0..<12]), count: 12); b.grad!.ptr.update(from: Array(g[12..<16]), count: 4)
            }
            try o1.step(lr: 0.01)
            if i == 2 {
                // "Resume": a fresh optimizer loaded from o2's state after o2 took the same steps.
                try o2.step(lr: 0.01)
                let o3 = try Adam.adamW(f2)
                try o3.loadState(Dictionary(uniqueKeysWithValues: o2.stateArrays()), stepCount: o2.stepCount)
                for j in 3..<c.grads.count {
                    let gj = c.grads[j]
                    for (w, b) in [(w1, b1), (w2, b2)] {
                        w.grad!.ptr.update(from: Array(gj[0..<12]), count: 12); b.grad!.ptr.update(from: Array(gj[12..<16]), count: 4)
                    }
                    try o1.step(lr: 0.01); try o3.step(lr: 0.01)
                }
                XCTAssertEqual(w1.array + b1.array, w2.array + b2.array, "bit-identical after resume")
                return
            }
            try o2.step(lr: 0.01)
        }
    }

    func testLoadStateNamesMissingKey() throws {
        let c = try XCTUnwrap(Self.cases["adam"])
        let (flat, _, _) = try model(c)
        let o = try Adam.adamW(flat)
        XCTAssertThrowsError(try o.loadState(["exp_avg": []], stepCount: 1)) { XCTAssertTrue("\($0)".contains("exp_avg")) }
    }

    func testSchedules() {
        let cos = Schedule.cosine(lr: 1, minLR: 0.1, warmupSteps: 10, warmupLR: 0, totalSteps: 110)
        XCTAssertEqual(cos.lr(at: 0), 0); XCTAssertEqual(cos.lr(at: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cos.lr(at: 10), 1, accuracy: 1e-6); XCTAssertEqual(cos.lr(at: 60), 0.55, accuracy: 1e-5)
        XCTAssertEqual(cos.lr(at: 110), 0.1, accuracy: 1e-6)
        let st = Schedule.step(lr: 1, milestones: [3, 6], gamma: 0.1)
        XCTAssertEqual(st.lr(at: 0), 1); XCTAssertEqual(st.lr(at: 3), 0.1, accuracy: 1e-7)
        XCTAssertEqual(st.lr(at: 5), 0.1, accuracy: 1e-7); XCTAssertEqual(st.lr(at: 6), 0.01, accuracy: 1e-7)
    }

    func testClipGradNormAndEMA() throws {
        let w = Tensor(filled: 0, shape: [4]); w.kind = .parameter; w.requiresGrad = true
        let flat = FlatBuffer([w], withGradients: true)
        w.grad!.ptr.update(from: [3, 4, 0, 0], count: 4)
        XCTAssertEqual(try clipGradNorm(flat, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(w.grad!.array[0], 0.6, accuracy: 1e-5)
        w.grad!.ptr[0] = .nan
        XCTAssertThrowsError(try clipGradNorm(flat, maxNorm: 1))
        let src = Tensor(filled: 1, shape: [2]), dst = Tensor(filled: 0, shape: [2])
        let ema = try EMA(source: [src], target: [dst], decay: 0.9)
        ema.update(); XCTAssertEqual(dst.array[0], 0.1, accuracy: 1e-6); XCTAssertEqual(dst.array[1], 0.1, accuracy: 1e-6)
    }
}

func relError(_ a: [Float], _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 1
    for (x, y) in zip(a, b) { num = max(num, abs(x - y)); den = max(den, abs(y)) }
    return num / den
}
