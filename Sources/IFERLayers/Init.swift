/// How a layer draws its weight (and bias) in `resetParameters`.
///
/// Each owning model picks the scheme its PyTorch original uses, so a from-scratch run starts
/// from the same distribution as the reference code:
///   - `.torchDefault`: nn.Linear / nn.Conv2d default, kaiming_uniform(a = √5), which is
///     U(±1/√fan_in) for the weight, and U(±1/√fan_in) for the bias;
///   - `.truncatedNormal(std:)`: timm's `trunc_normal_(std)` with absolute bounds ±2, bias 0;
///   - `.normal(std:)`: N(0, std²), bias 0 (StyleGAN2's equalised layers use std 1 / lr_mul);
///   - `.zeros`: weight and bias 0.
public enum WeightInit: Sendable, Equatable {
    case torchDefault
    case truncatedNormal(std: Float)
    case normal(std: Float)
    case zeros

    /// Fills `weight` (and `bias` if any) for a layer whose fan-in is `fanIn`.
    public func apply(weight: Tensor, bias: Tensor?, fanIn: Int, rng: inout Philox) {
        switch self {
        case .torchDefault:
            // kaiming_uniform(a=√5): gain = √(2/(1+5)) = √(1/3); bound = gain·√(3/fan_in) = 1/√fan_in.
            let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
            weight.fillUniform(&rng, low: -bound, high: bound)
            bias?.fillUniform(&rng, low: -bound, high: bound)
        case let .truncatedNormal(std):
            weight.fillTruncatedNormal(&rng, std: std)
            bias?.fill(0)
        case let .normal(std):
            weight.fillNormal(&rng, std: std)
            bias?.fill(0)
        case .zeros:
            weight.fill(0)
            bias?.fill(0)
        }
    }
}
