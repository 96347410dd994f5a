import XCTest
@testable import IFERTrain

final class MetricsTests: XCTestCase {
    func testConfusionMatrixIgnoresMaskedPadding() throws {
        var cm = ConfusionMatrix(classes: 3)
        let logits = try Tensor([5, 0, 0, 0, 5, 0, 0, 5, 0, 9, 0, 0], shape: [4, 3])
        cm.add(logits: logits, labels: [0, 1, 2, 1], mask: [true, true, true, false])
        XCTAssertEqual(cm.rows, [[1, 0, 0], [0, 1, 0], [0, 1, 0]])
        XCTAssertEqual(cm.accuracy, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(cm.perClassAccuracy[2], 0)
    }

    func testMixupTargetsSumToOneAndAreDeterministic() throws {
        let m = Mixup(mixupAlpha: 0.8, cutmixAlpha: 1.0, prob: 1, switchProb: 0.5, labelSmoothing: 0.1, classes: 7)
        var r1 = Philox(seed: 1, 2), r2 = Philox(seed: 1, 2)
        let x1 = Tensor(filled: 0, shape: [4, 3, 8, 8]), x2 = Tensor(filled: 0, shape: [4, 3, 8, 8])
        for i in 0..<x1.count { x1.ptr[i] = Float(i % 97); x2.ptr[i] = Float(i % 97) }
        let t1 = m.apply(images: x1, labels: [0, 1, 2, 3], rng: &r1)
        let t2 = m.apply(images: x2, labels: [0, 1, 2, 3], rng: &r2)
        XCTAssertEqual(t1.array, t2.array); XCTAssertEqual(x1.array, x2.array)
        for i in 0..<4 { XCTAssertEqual((0..<7).reduce(Float(0)) { $0 + t1.ptr[i * 7 + $1] }, 1, accuracy: 1e-5) }
        // Off: plain smoothed one-hot targets and untouched images.
        let off = Mixup(mixupAlpha: 0, cutmixAlpha: 0, prob: 1, switchProb: 0.5, labelSmoothing: 0.1, classes: 7)
        let x3 = x1.copy()
        let t3 = off.apply(images: x3, labels: [6, 1, 2, 3], rng: &r1)
        XCTAssertEqual(x3.array, x1.array)
        XCTAssertEqual(t3.ptr[6], 0.9 + 0.1 / 7, accuracy: 1e-6)
    }
}
