/// Classification metrics: top-1 accuracy, per-class accuracy and the confusion matrix
/// (rows = true class, columns = predicted class). Counts are integers so that ranks can sum
/// them exactly with an all-reduce.
public struct ConfusionMatrix: Equatable {
    public let classes: Int
    public private(set) var counts: [Int]

    public init(classes: Int) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Adds predictions (argmax of `logits` [N, C]) for the rows where `mask` is true.
    public mutating func add(logits: Tensor, labels: [Int], mask: [Bool]) {
        let c = logits.dim(-1)
        for i in 0..<labels.count where mask[i] && labels[i] >= 0 && labels[i] < classes {
            let row = logits.ptr + i * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            counts[labels[i] * classes + best] += 1
        }
    }

    public mutating func merge(_ flat: [Int]) { for i in 0..<counts.count { counts[i] += flat[i] } }
    public mutating func replace(_ flat: [Int]) { counts = flat }

    public var total: Int { counts.reduce(0, +) }
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1 * classes + $1] } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Recall per class (NaN where the class has no samples).
    public var perClassAccuracy: [Double] {
        (0..<classes).map { k in
            let n = (0..<classes).reduce(0) { $0 + counts[k * classes + $1] }
            return n == 0 ? .nan : Double(counts[k * classes + k]) / Double(n)
        }
    }

    public var rows: [[Int]] { (0..<classes).map { Array(counts[($0 * classes)..<(($0 + 1) * classes)]) } }
}
