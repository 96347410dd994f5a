import Foundation
import IFERTensor

/// Per-sample image transforms of the training stages, applied while a shard image (uint8 HWC)
/// becomes a normalised float CHW tensor row. Randomness comes from a Philox stream keyed by
/// (seed, epoch, global sample index), so a sample is augmented the same way whichever rank loads
/// it and however many ranks there are.
///
/// Order (as torchvision / timm): choose the source window (RandomResizedCrop, a centre crop, or
/// the whole image), resample it to `outputSize` with anti-aliasing, flip horizontally, RandAugment
/// when configured (on the uint8 image, as timm runs it on the PIL image), normalise to [-1, 1]
/// (mean = std = 0.5), then random erasing in normalised space.
public struct Augmentation: Equatable, Sendable {
    /// Output side; nil keeps the shard resolution.
    public var outputSize: Int? = nil
    /// Probability of a horizontal flip.
    public var flip: Float = 0
    /// RandomResizedCrop area and aspect-ratio ranges (torchvision semantics), or nil.
    public var resizedCropScale: ClosedRange<Float>? = nil
    public var resizedCropRatio: ClosedRange<Float> = (3.0 / 4.0)...(4.0 / 3.0)
    /// Evaluation: keep the centred square of this fraction of the side (timm crop_pct), or nil.
    public var centerCrop: Float? = nil
    /// Probability of timm RandomErasing (mode "pixel", one box, area 2%-33%, aspect 0.3-3.3).
    public var erasing: Float = 0
    /// timm RandAugment after the flip, or nil.
    public var randAugment: RandAugment? = nil

    public init(outputSize: Int? = nil, flip: Float = 0, resizedCropScale: ClosedRange<Float>? = nil,
                resizedCropRatio: ClosedRange<Float> = (3.0 / 4.0)...(4.0 / 3.0), centerCrop: Float? = nil, erasing: Float = 0,
                randAugment: RandAugment? = nil) {
        self.outputSize = outputSize; self.flip = flip; self.resizedCropScale = resizedCropScale
        self.resizedCropRatio = resizedCropRatio; self.centerCrop = centerCrop; self.erasing = erasing
        self.randAugment = randAugment
    }

    /// No augmentation: the shard image, normalised.
    public static let none = Augmentation()
    /// ASIT stages: Resize(256) (done by sharding) and a random horizontal flip.
    public static let inversion = Augmentation(flip: 0.5)
    /// IFER training (timm train transform, without RandAugment): RandomResizedCrop(0.08-1),
    /// flip 0.5, RandomErasing 0.25 pixel mode.
    public static let classification = Augmentation(flip: 0.5, resizedCropScale: 0.08...1, erasing: 0.25)
    /// IFER evaluation: centre crop 0.875, resized to the input size.
    public static let classificationEval = Augmentation(centerCrop: 0.875)

    static let stream: UInt64 = 0x4155_474D  // "AUGM"

    /// byte -> byte / 127.5 - 1
    static let normalised: [Float] = (0..<256).map { Float($0) / 127.5 - 1 }

    /// The generator of one sample's augmentation.
    public static func rng(seed: UInt64, epoch: Int, sample: Int) -> Philox {
        Philox(seed: seed, stream, UInt64(epoch), UInt64(sample))
    }

    /// torchvision RandomResizedCrop.get_params: (x0, y0, w, h) in pixels of a width x height image.
    func resizedCropWindow(width: Int, height: Int, scale: ClosedRange<Float>, rng: inout Philox) -> (Int, Int, Int, Int) {
        let area = Float(width * height)
        let logLo = log(resizedCropRatio.lowerBound), logHi = log(resizedCropRatio.upperBound)
        for _ in 0..<10 {
            let target = area * rng.uniform(scale.lowerBound, scale.upperBound)
            let ratio = exp(rng.uniform(logLo, logHi))
            let w = Int((target * ratio).squareRoot().rounded())
            let h = Int((target / ratio).squareRoot().rounded())
            if w > 0 && h > 0 && w <= width && h <= height {
                let y0 = rng.int(below: height - h + 1)
                let x0 = rng.int(below: width - w + 1)
                return (x0, y0, w, h)
            }
        }
        // Fallback: centre crop at the nearest allowed ratio.
        let inRatio = Float(width) / Float(height)
        var w = width, h = height
        if inRatio < resizedCropRatio.lowerBound {
            h = Int((Float(w) / resizedCropRatio.lowerBound).rounded())
        } else if inRatio > resizedCropRatio.upperBound {
            w = Int((Float(h) * resizedCropRatio.upperBound).rounded())
        }
        return ((width - w) / 2, (height - h) / 2, w, h)
    }

    /// Transforms one image (side x side x 3 uint8) into `out` (3 x S x S floats, CHW, in [-1, 1]
    /// before erasing), S = outputSize ?? side.
    public func apply(_ src: UnsafePointer<UInt8>, side: Int, into out: UnsafeMutablePointer<Float>, rng: inout Philox,
                      workspace: Resample.Workspace = Resample.Workspace()) {
        let s = outputSize ?? side
        var window = (0.0, 0.0, Double(side), Double(side))
        if let scale = resizedCropScale {
            let (x, y, w, h) = resizedCropWindow(width: side, height: side, scale: scale, rng: &rng)
            window = (Double(x), Double(y), Double(x + w), Double(y + h))
        } else if let c = centerCrop {
            let k = max(1, Int((Float(side) * c).rounded()))
            let o = Double((side - k) / 2)
            window = (o, o, o + Double(k), o + Double(k))
        }
        let mirrored = flip > 0 && rng.bernoulli(flip)
        let plane = s * s
        let scaleF: Float = 1.0 / 127.5
        if let policy = randAugment {
            // RandAugment works on bytes: resample (rounded, as Pillow stores it), flip, augment, normalise.
            var bytes = [UInt8](repeating: 0, count: plane * 3)
            bytes.withUnsafeMutableBufferPointer { b in
                let d = b.baseAddress!
                Resample.resample(src, width: side, height: side, box: window, outWidth: s, outHeight: s, workspace: workspace) { y, row in
                    let o = d + y * s * 3
                    for x in 0..<s {
                        let sx = mirrored ? s - 1 - x : x
                        for c in 0..<3 { o[x * 3 + c] = UInt8(min(max(row[sx * 3 + c] + 0.5, 0), 255)) }
                    }
                }
                policy.apply(d, side: s, rng: &rng)
                for p in 0..<plane {
                    out[p] = Augmentation.normalised[Int(d[p * 3])]
                    out[plane + p] = Augmentation.normalised[Int(d[p * 3 + 1])]
                    out[2 * plane + p] = Augmentation.normalised[Int(d[p * 3 + 2])]
                }
            }
        } else if window == (0, 0, Double(side), Double(side)) && s == side {
            // Identity geometry: a table lookup per byte, rows copied forwards or mirrored.
            Augmentation.normalised.withUnsafeBufferPointer { lut in
                let t = lut.baseAddress!
                for y in 0..<s {
                    let row = src + y * s * 3
                    let o0 = out + y * s, o1 = o0 + plane, o2 = o1 + plane
                    if mirrored {
                        for x in 0..<s {
                            let p = row + (s - 1 - x) * 3
                            o0[x] = t[Int(p[0])]; o1[x] = t[Int(p[1])]; o2[x] = t[Int(p[2])]
                        }
                    } else {
                        for x in 0..<s {
                            let p = row + x * 3
                            o0[x] = t[Int(p[0])]; o1[x] = t[Int(p[1])]; o2[x] = t[Int(p[2])]
                        }
                    }
                }
            }
        } else {
            Resample.resample(src, width: side, height: side, box: window, outWidth: s, outHeight: s, workspace: workspace) { y, row in
                let o0 = out + y * s, o1 = o0 + plane, o2 = o1 + plane
                for x in 0..<s {
                    let sx = mirrored ? s - 1 - x : x
                    // Clamp like a uint8 round trip would, so resampled and direct paths agree in range.
                    o0[x] = min(max(row[sx * 3], 0), 255) * scaleF - 1
                    o1[x] = min(max(row[sx * 3 + 1], 0), 255) * scaleF - 1
                    o2[x] = min(max(row[sx * 3 + 2], 0), 255) * scaleF - 1
                }
            }
        }
        if erasing > 0 && rng.bernoulli(erasing) {
            erase(out, size: s, rng: &rng)
        }
    }

    /// timm RandomErasing, mode "pixel": one box of 2%-33% of the area, log-uniform aspect in
    /// [0.3, 1/0.3], filled with standard normal noise per pixel and channel.
    func erase(_ out: UnsafeMutablePointer<Float>, size s: Int, rng: inout Philox) {
        let area = Float(s * s)
        let logLo = log(Float(0.3)), logHi = log(Float(1 / 0.3))
        for _ in 0..<10 {
            let target = area * rng.uniform(0.02, 1.0 / 3.0)
            let aspect = exp(rng.uniform(logLo, logHi))
            let h = Int((target * aspect).squareRoot().rounded())
            let w = Int((target / aspect).squareRoot().rounded())
            if w < s && h < s && w > 0 && h > 0 {
                let top = rng.int(below: s - h + 1)
                let left = rng.int(below: s - w + 1)
                for c in 0..<3 {
                    for y in top..<(top + h) {
                        for x in left..<(left + w) { out[c * s * s + y * s + x] = rng.normal() }
                    }
                }
                return
            }
        }
    }
}
