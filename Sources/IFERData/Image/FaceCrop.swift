import Foundation

/// How a source image becomes a resolution x resolution shard image: crop the face box (AffectNet)
/// clamped to the image, take the centred square of that region (shorter side), and resample it
/// to the target size. A square smaller than the target is refused unless up-scaling is allowed:
/// an up-scaled face would carry less detail than the resolution promises.
public enum FaceCrop {
    /// The square window (x0, y0, x1, y1) to resample, or a reason the image is unusable.
    public static func window(width: Int, height: Int, box: FaceBox?, resolution: Int,
                              allowUpscale: Bool) -> Result<(Double, Double, Double, Double), SkipReason> {
        var rx = 0, ry = 0, rw = width, rh = height
        if let b = box {
            let x0 = max(0, b.x), y0 = max(0, b.y)
            let x1 = min(width, b.x + b.width), y1 = min(height, b.y + b.height)
            guard x1 > x0, y1 > y0 else {
                return .failure(SkipReason("face box x=\(b.x) y=\(b.y) w=\(b.width) h=\(b.height) lies outside the \(width)x\(height) image"))
            }
            rx = x0; ry = y0; rw = x1 - x0; rh = y1 - y0
        }
        let side = min(rw, rh)
        guard side >= 1 else { return .failure(SkipReason("image is empty (\(width)x\(height))")) }
        if side < resolution && !allowUpscale {
            let what = box == nil ? "image is \(width)x\(height)" : "face crop is \(rw)x\(rh)"
            return .failure(SkipReason("\(what), smaller than the target \(resolution)x\(resolution)"))
        }
        let x0 = Double(rx + (rw - side) / 2), y0 = Double(ry + (rh - side) / 2)
        return .success((x0, y0, x0 + Double(side), y0 + Double(side)))
    }
}

/// Why a source was left out (stored in the manifest's `skipped`).
public struct SkipReason: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
