import Foundation
import IFERTensor

/// timm's RandAugment (timm 0.5.4, `auto_augment.py`), the stage-C augmentation of IFER
/// (`rand-m9-mstd0.5-inc1`), on one interleaved RGB uint8 image of side S, in place.
///
/// Per image: pick `layers` ops uniformly from the 15, with replacement; each op runs with
/// probability `probability` (0.5) at a magnitude drawn from N(magnitude, magnitudeStd) and
/// clipped to [0, 10]; the magnitude becomes the op's argument by the op's level function, with a
/// random sign for the signed ones. Geometric ops fill uncovered pixels with `fill` (timm: the
/// normalisation mean as bytes) and resample bilinear or bicubic, chosen at random per op, as
/// timm does when the train transform's interpolation is "random". Pixel ops follow Pillow's
/// ImageOps / ImageEnhance arithmetic (Tests/IFERDataTests/RandAugmentTests compares them with
/// Pillow, fixtures from scripts/golden/randaugment_pillow.py).
///
/// Randomness comes from the sample's own Philox stream (see `Augmentation.rng`), so a sample is
/// augmented the same way on any rank.
public struct RandAugment: Equatable, Sendable {
    /// The ops, in timm's order (`_RAND_INCREASING_TRANSFORMS` / `_RAND_TRANSFORMS`).
    public enum Op: String, CaseIterable, Sendable {
        case autoContrast = "AutoContrast", equalize = "Equalize", invert = "Invert", rotate = "Rotate"
        case posterize = "Posterize", solarize = "Solarize", solarizeAdd = "SolarizeAdd"
        case color = "Color", contrast = "Contrast", brightness = "Brightness", sharpness = "Sharpness"
        case shearX = "ShearX", shearY = "ShearY", translateX = "TranslateXRel", translateY = "TranslateYRel"
    }

    /// Resampling of the geometric ops (Pillow's transform filters).
    public enum Interpolation: String, Sendable { case bilinear, bicubic }

    public var magnitude: Float = 9
    public var magnitudeStd: Float = 0.5
    public var layers: Int = 2
    /// timm's "inc1": the posterize / solarize / enhance levels grow stronger with the magnitude.
    public var increasing: Bool = true
    public var probability: Float = 0.5
    /// RGB fill of the geometric ops.
    public var fill: [UInt8] = [128, 128, 128]

    public init(magnitude: Float = 9, magnitudeStd: Float = 0.5, layers: Int = 2, increasing: Bool = true,
                probability: Float = 0.5, fill: [UInt8] = [128, 128, 128]) {
        self.magnitude = magnitude; self.magnitudeStd = magnitudeStd; self.layers = layers
        self.increasing = increasing; self.probability = probability; self.fill = fill
    }

    /// Parses timm's config string, e.g. "rand-m9-mstd0.5-inc1": sections m (magnitude),
    /// n (layers), mstd (magnitude std), inc (0 or 1); sections left out take timm's defaults
    /// (mstd 0, inc 0, n 2). timm's `w` (weighted op choice) and later
    /// versions' `mmax` / `p` are refused rather than ignored.
    public init(spec: String, fill: [UInt8] = [128, 128, 128]) throws {
        // timm's defaults for what the string leaves out: magnitude std 0, non-increasing ops, 2 layers.
        self.init(magnitudeStd: 0, increasing: false, fill: fill)
        let parts = spec.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "rand", parts.count >= 1 else {
            throw DataError.badArgument("RandAugment '\(spec)': expected timm's form rand-m9-mstd0.5-inc1 (starting with 'rand')")
        }
        for part in parts.dropFirst() {
            let key = String(part.prefix { $0.isLetter })
            let text = String(part.dropFirst(key.count))
            guard let value = Float(text), value.isFinite else {
                throw DataError.badArgument("RandAugment '\(spec)': section '\(part)' has no number after '\(key)'")
            }
            switch key {
            case "m":
                guard (0...10).contains(value) else { throw DataError.badArgument("RandAugment '\(spec)': magnitude \(text) is not in 0...10") }
                magnitude = value
            case "n":
                guard value == value.rounded(), (1...15).contains(value) else {
                    throw DataError.badArgument("RandAugment '\(spec)': n = \(text) must be a whole number of ops in 1...15")
                }
                layers = Int(value)
            case "mstd":
                guard (0...10).contains(value) else { throw DataError.badArgument("RandAugment '\(spec)': mstd \(text) is not in 0...10") }
                magnitudeStd = value
            case "inc":
                guard value == 0 || value == 1 else { throw DataError.badArgument("RandAugment '\(spec)': inc must be 0 or 1, got \(text)") }
                increasing = value == 1
            default:
                throw DataError.badArgument("RandAugment '\(spec)': unknown section '\(part)' (this implementation knows m, n, mstd, inc)")
            }
        }
    }

    // MARK: - The per-image policy

    /// Applies `layers` random ops to `image` (side x side x 3, interleaved) in place.
    public func apply(_ image: UnsafeMutablePointer<UInt8>, side: Int, rng: inout Philox) {
        var scratch = [UInt8](repeating: 0, count: side * side * 3)
        let ops = Op.allCases
        let chosen = (0..<layers).map { _ in ops[rng.int(below: ops.count)] }  // with replacement
        for op in chosen {
            if rng.uniform() > probability { continue }
            let m = min(10, max(0, rng.normal(mean: magnitude, std: magnitudeStd)))
            let argument = level(op, magnitude: m, rng: &rng)
            let interpolation: Interpolation = rng.bernoulli(0.5) ? .bilinear : .bicubic
            scratch.withUnsafeMutableBufferPointer { s in
                RandAugment.run(op, argument: argument, interpolation: interpolation, image, side: side, fill: fill, scratch: s.baseAddress!)
            }
        }
    }

    /// timm's level functions: magnitude in [0, 10] -> the op's argument.
    func level(_ op: Op, magnitude m: Float, rng: inout Philox) -> Float {
        func signed(_ v: Float) -> Float { rng.bernoulli(0.5) ? -v : v }
        let t = m / 10
        switch op {
        case .autoContrast, .equalize, .invert: return 0
        case .rotate: return signed(t * 30)                                          // degrees
        case .posterize: return Float(increasing ? 4 - Int(t * 4) : Int(t * 4))      // bits kept
        case .solarize: return Float(increasing ? 256 - Int(t * 256) : Int(t * 256)) // threshold
        case .solarizeAdd: return Float(Int(t * 110))                                // added below 128
        case .color, .contrast, .brightness, .sharpness:                            // enhance factor
            return increasing ? 1 + signed(t * 0.9) : t * 1.8 + 0.1
        case .shearX, .shearY: return signed(t * 0.3)
        case .translateX, .translateY: return signed(t * 0.45)                       // fraction of the side
        }
    }

    // MARK: - The ops (Pillow semantics), each on side x side x 3 bytes in place

    /// Runs one op with its argument already chosen; `scratch` holds side*side*3 bytes.
    public static func run(_ op: Op, argument: Float, interpolation: Interpolation, _ img: UnsafeMutablePointer<UInt8>,
                           side s: Int, fill: [UInt8], scratch: UnsafeMutablePointer<UInt8>) {
        let n = s * s * 3
        switch op {
        case .autoContrast: autoContrast(img, pixels: s * s)
        case .equalize: equalize(img, pixels: s * s)
        case .invert: lut(img, count: n) { 255 - $0 }
        case .posterize:
            let bits = Int(argument)
            if bits >= 8 { return }
            let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - max(0, bits))) - 1))
            lut(img, count: n) { $0 & mask }
        case .solarize:
            let threshold = Int(argument)
            lut(img, count: n) { Int($0) < threshold ? $0 : 255 - $0 }
        case .solarizeAdd:
            let add = Int(argument)
            lut(img, count: n) { $0 < 128 ? UInt8(min(255, Int($0) + add)) : $0 }
        case .color:
            // Degenerate image: the ITU-R 601-2 luma (Pillow's L conversion), as grey RGB.
            for p in 0..<(s * s) {
                let g = luma(img + p * 3)
                scratch[p * 3] = g; scratch[p * 3 + 1] = g; scratch[p * 3 + 2] = g
            }
            blend(degenerate: scratch, img, count: n, factor: argument)
        case .contrast:
            var sum = 0
            for p in 0..<(s * s) { sum += Int(luma(img + p * 3)) }
            let mean = UInt8(Int(Double(sum) / Double(s * s) + 0.5))
            for j in 0..<n { scratch[j] = mean }
            blend(degenerate: scratch, img, count: n, factor: argument)
        case .brightness:
            for j in 0..<n { scratch[j] = 0 }
            blend(degenerate: scratch, img, count: n, factor: argument)
        case .sharpness:
            smooth(img, side: s, into: scratch)
            blend(degenerate: scratch, img, count: n, factor: argument)
        case .rotate:
            // Image.rotate(angle) about the centre, expand=False: output (x, y) samples the input at
            // R(-angle) about (S/2, S/2).
            let a = -Double(argument) * .pi / 180
            let (c, sn) = (cos(a), sin(a)), h = Double(s) / 2
            affine(img, side: s, (c, sn, -c * h - sn * h + h, -sn, c, sn * h - c * h + h), interpolation, fill, scratch)
        case .shearX: affine(img, side: s, (1, Double(argument), 0, 0, 1, 0), interpolation, fill, scratch)
        case .shearY: affine(img, side: s, (1, 0, 0, Double(argument), 1, 0), interpolation, fill, scratch)
        case .translateX: affine(img, side: s, (1, 0, Double(argument) * Double(s), 0, 1, 0), interpolation, fill, scratch)
        case .translateY: affine(img, side: s, (1, 0, 0, 0, 1, Double(argument) * Double(s)), interpolation, fill, scratch)
        }
    }

    /// Applies a 256-entry table built from `f` to every byte.
    static func lut(_ img: UnsafeMutablePointer<UInt8>, count: Int, _ f: (UInt8) -> UInt8) {
        let table = (0...255).map { f(UInt8($0)) }
        for j in 0..<count { img[j] = table[Int(img[j])] }
    }

    /// Pillow's RGB -> L: (299 R + 587 G + 114 B) / 1000 in 16-bit fixed point, rounded.
    static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let r: Int = Int(p[0]) * 19595, g: Int = Int(p[1]) * 38470, b: Int = Int(p[2]) * 7471
        return UInt8((r + g + b + 0x8000) >> 16)
    }

    /// ImageOps.autocontrast (cutoff 0), per channel: stretch [lo, hi] to [0, 255].
    static func autoContrast(_ img: UnsafeMutablePointer<UInt8>, pixels: Int) {
        for c in 0..<3 {
            var lo = 255, hi = 0
            for p in 0..<pixels { let v = Int(img[p * 3 + c]); lo = min(lo, v); hi = max(hi, v) }
            if hi <= lo { continue }
            let scale = 255.0 / Double(hi - lo), offset = -Double(lo) * scale
            let table = (0...255).map { UInt8(min(255, max(0, Int(Double($0) * scale + offset)))) }
            for p in 0..<pixels { img[p * 3 + c] = table[Int(img[p * 3 + c])] }
        }
    }

    /// ImageOps.equalize, per channel: the cumulative histogram as the table.
    static func equalize(_ img: UnsafeMutablePointer<UInt8>, pixels: Int) {
        for c in 0..<3 {
            var hist = [Int](repeating: 0, count: 256)
            for p in 0..<pixels { hist[Int(img[p * 3 + c])] += 1 }
            let used = hist.filter { $0 > 0 }
            if used.count <= 1 { continue }
            let step = (used.reduce(0, +) - used[used.count - 1]) / 255
            if step == 0 { continue }
            var table = [UInt8](repeating: 0, count: 256)
            var acc = step / 2
            for i in 0..<256 {
                table[i] = UInt8(min(255, acc / step))
                acc += hist[i]
            }
            for p in 0..<pixels { img[p * 3 + c] = table[Int(img[p * 3 + c])] }
        }
    }

    /// Image.blend(degenerate, image, factor): d + factor (x - d), clipped and truncated.
    static func blend(degenerate d: UnsafePointer<UInt8>, _ img: UnsafeMutablePointer<UInt8>, count: Int, factor: Float) {
        for j in 0..<count {
            let v = Float(d[j]) + factor * (Float(img[j]) - Float(d[j]))
            img[j] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
        }
    }

    /// ImageFilter.SMOOTH: 3x3 kernel [1 1 1; 1 5 1; 1 1 1] / 13, the border copied unchanged.
    static func smooth(_ img: UnsafePointer<UInt8>, side s: Int, into out: UnsafeMutablePointer<UInt8>) {
        for j in 0..<(s * s * 3) { out[j] = img[j] }
        if s < 3 { return }
        for y in 1..<(s - 1) {
            for x in 1..<(s - 1) {
                for c in 0..<3 {
                    var sum: Float = 0
                    for dy in -1...1 {
                        for dx in -1...1 {
                            sum += Float(img[((y + dy) * s + x + dx) * 3 + c]) * (dx == 0 && dy == 0 ? 5 : 1)
                        }
                    }
                    let v = sum / 13 + 0.5
                    out[(y * s + x) * 3 + c] = v >= 255 ? 255 : UInt8(v)
                }
            }
        }
    }

    /// Image.transform(AFFINE, (a, b, c, d, e, f)): output pixel (x, y) samples the input at
    /// (a x' + b y' + c, d x' + e y' + f), x' = x + 0.5 (pixel centres); points outside the image
    /// take `fill`. Bilinear: 2x2 taps; bicubic: Pillow's 4x4 taps (a = -1 cubic); neighbours
    /// outside the image repeat the edge.
    static func affine(_ img: UnsafeMutablePointer<UInt8>, side s: Int, _ m: (Double, Double, Double, Double, Double, Double),
                       _ interpolation: Interpolation, _ fill: [UInt8], _ out: UnsafeMutablePointer<UInt8>) {
        func at(_ x: Int, _ y: Int, _ c: Int) -> Double {
            Double(img[(min(max(y, 0), s - 1) * s + min(max(x, 0), s - 1)) * 3 + c])
        }
        func cubic(_ v1: Double, _ v2: Double, _ v3: Double, _ v4: Double, _ d: Double) -> Double {
            let p2 = -v1 + v3, p3 = 2 * (v1 - v2) + v3 - v4, p4 = -v1 + v2 - v3 + v4
            return v2 + d * (p2 + d * (p3 + d * p4))
        }
        for y in 0..<s {
            for x in 0..<s {
                let xo = Double(x) + 0.5, yo = Double(y) + 0.5
                let xin = m.0 * xo + m.1 * yo + m.2, yin = m.3 * xo + m.4 * yo + m.5
                let o = out + (y * s + x) * 3
                if xin < 0 || xin >= Double(s) || yin < 0 || yin >= Double(s) {
                    o[0] = fill[0]; o[1] = fill[1]; o[2] = fill[2]
                    continue
                }
                let xs = xin - 0.5, ys = yin - 0.5
                let x0 = Int(floor(xs)), y0 = Int(floor(ys))
                let dx = xs - Double(x0), dy = ys - Double(y0)
                for c in 0..<3 {
                    var v: Double
                    switch interpolation {
                    case .bilinear:
                        let top = at(x0, y0, c) + (at(x0 + 1, y0, c) - at(x0, y0, c)) * dx
                        let bottom = at(x0, y0 + 1, c) + (at(x0 + 1, y0 + 1, c) - at(x0, y0 + 1, c)) * dx
                        v = top + (bottom - top) * dy
                    case .bicubic:
                        func row(_ yy: Int) -> Double { cubic(at(x0 - 1, yy, c), at(x0, yy, c), at(x0 + 1, yy, c), at(x0 + 2, yy, c), dx) }
                        v = cubic(row(y0 - 1), row(y0), row(y0 + 1), row(y0 + 2), dy)
                    }
                    o[c] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)  // truncated, as Pillow's filters store it
                }
            }
        }
        for j in 0..<(s * s * 3) { img[j] = out[j] }
    }
}
