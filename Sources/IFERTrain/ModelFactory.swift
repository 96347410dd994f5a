/// The IFER classifier as the `ifer` stage sees it.
extension IferClassifier: ImageClassifier {
    public var classes: Int { head.config.numClasses }
    public var inputSize: Int { featureModel.config.imageSize }

    public func logits(_ images: Tensor, training: Bool, rngs: inout [Philox]) throws -> Tensor {
        // Evaluation passes no generators, which turns drop path off.
        var none: [Philox] = []
        return training ? try forward(images, rngs: &rngs) : try forward(images, rngs: &none)
    }
}

/// Builds the `ifer` stage's classifier from the config's `model` section (encoder + IFER head),
/// initialised from `train.seed` (rank 0's values are broadcast afterwards anyway).
/// `initialise: false` leaves the tensors as allocated (zeros), for a caller that overwrites
/// them all from a checkpoint next (initialising 270 M paper-size weights takes seconds).
public func makeClassifier(_ config: RunConfig, initialise: Bool = true) throws -> ImageClassifier {
    let mc = config.model
    let model = try IferClassifier(mc)
    if initialise { model.resetAll(seed: UInt64(config.train.seed)) }
    return model
}
