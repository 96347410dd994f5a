/// What the classification stage needs from a model: logits for a batch of images.
/// `rngs[i]` draws batch row i's stochastic masks (drop path), keyed by its global sample index,
/// so the result does not depend on how the batch is split over ranks.
public protocol ImageClassifier: Module {
    var classes: Int { get }
    /// Side of the square input images.
    var inputSize: Int { get }
    /// images [N, 3, H, W] in [-1, 1] -> logits [N, classes]
    func logits(_ images: Tensor, training: Bool, rngs: inout [Philox]) throws -> Tensor
}
