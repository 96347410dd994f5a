import Foundation
import IFERTensor

/// Everything that makes one synthetic person look like themselves, plus the framing of the
/// shot. Drawn from a Philox stream keyed by (seed, sample index), so sample i of seed s is the
/// same face whatever the layout, the worker that renders it or the resolution.
public struct FaceIdentity: Sendable {
    // Framing (fractions of the image side, radians).
    var centre: Point
    var scale: Float
    var roll: Float
    // Background: a two-colour gradient with soft low-frequency ripples.
    var background0: RGB, background1: RGB
    var backgroundAngle: Float
    var ripples: [(kx: Float, ky: Float, phase: Float, amp: Float)]
    // Head: ellipse radii and a jaw taper (0 = oval, larger = narrower V-shaped chin).
    var headRX: Float, headRY: Float, jaw: Float
    var skin: RGB
    // Hair: 0 short cap, 1 long (falls behind the head to the shoulders), 2 buzz cut.
    var hairStyle: Int
    var hair: RGB
    var hairline: Float      // forehead height, fraction of headRY above the centre
    var hairPart: Float      // asymmetry of the hairline
    var shirt: RGB
    // Eyes: half the distance between centres, height, size, iris colour, gaze.
    var eyeSpacing: Float, eyeY: Float, eyeW: Float, eyeH: Float
    var iris: RGB
    var gaze: Float
    // Brows.
    var browGap: Float, browThick: Float, browLength: Float
    // Nose and mouth.
    var noseLength: Float, noseWidth: Float
    var mouthY: Float, mouthW: Float, lipThick: Float
    var lips: RGB
    /// How strongly this sample shows its expression (1 = the table value).
    var intensity: Float

    static let skinTones: [RGB] = [
        RGB(0.98, 0.84, 0.74), RGB(0.93, 0.76, 0.64), RGB(0.86, 0.66, 0.52), RGB(0.76, 0.56, 0.42),
        RGB(0.62, 0.43, 0.31), RGB(0.48, 0.32, 0.22), RGB(0.36, 0.23, 0.16),
    ]
    static let hairColours: [RGB] = [
        RGB(0.08, 0.06, 0.05), RGB(0.20, 0.13, 0.08), RGB(0.36, 0.23, 0.12), RGB(0.55, 0.27, 0.12),
        RGB(0.80, 0.66, 0.40), RGB(0.62, 0.60, 0.58), RGB(0.14, 0.11, 0.10),
    ]
    static let irisColours: [RGB] = [
        RGB(0.30, 0.18, 0.08), RGB(0.18, 0.10, 0.05), RGB(0.25, 0.42, 0.62), RGB(0.32, 0.45, 0.28), RGB(0.45, 0.35, 0.20),
    ]

    public init(seed: UInt64, sample: Int) {
        var g = Philox(seed: seed, 0x5917_FACE, UInt64(sample))
        centre = Point(g.uniform(0.46, 0.54), g.uniform(0.44, 0.50))
        scale = g.uniform(1.18, 1.38)
        roll = g.uniform(-0.12, 0.12)

        func pick(_ palette: [RGB], _ g: inout Philox) -> RGB {
            // Blend two neighbours of the palette, then jitter each channel a little.
            let t = g.uniform(0, Float(palette.count - 1))
            let i = min(Int(t), palette.count - 2)
            let c = RGB.mix(palette[i], palette[i + 1], t - Float(i))
            return RGB(c.r + g.uniform(-0.03, 0.03), c.g + g.uniform(-0.03, 0.03), c.b + g.uniform(-0.03, 0.03)).clamped
        }
        func anyColour(_ g: inout Philox, _ lo: Float, _ hi: Float) -> RGB {
            RGB(g.uniform(lo, hi), g.uniform(lo, hi), g.uniform(lo, hi))
        }
        background0 = anyColour(&g, 0.15, 0.95)
        background1 = RGB.mix(background0, anyColour(&g, 0.1, 0.9), g.uniform(0.3, 0.9))
        backgroundAngle = g.uniform(0, 2 * Float.pi)
        ripples = (0..<3).map { _ in
            (g.uniform(-9, 9), g.uniform(-9, 9), g.uniform(0, 2 * Float.pi), g.uniform(0, 0.05))
        }

        headRX = g.uniform(0.205, 0.245)
        headRY = headRX * g.uniform(1.22, 1.40)
        jaw = g.uniform(0, 0.24)
        skin = pick(FaceIdentity.skinTones, &g)
        hairStyle = g.int(below: 3)
        hair = pick(FaceIdentity.hairColours, &g)
        hairline = g.uniform(0.40, 0.62)
        hairPart = g.uniform(-0.25, 0.25)
        shirt = anyColour(&g, 0.05, 0.85)

        eyeSpacing = headRX * g.uniform(0.38, 0.48)
        eyeY = headRY * g.uniform(-0.12, 0.0)
        eyeW = headRX * g.uniform(0.19, 0.24)
        eyeH = eyeW * g.uniform(0.42, 0.55)
        iris = pick(FaceIdentity.irisColours, &g)
        gaze = g.uniform(-0.25, 0.25)

        browGap = eyeH * g.uniform(1.7, 2.2)
        browThick = headRX * g.uniform(0.085, 0.115)
        browLength = eyeW * g.uniform(1.05, 1.3)

        noseLength = headRY * g.uniform(0.30, 0.40)
        noseWidth = headRX * g.uniform(0.13, 0.19)
        mouthY = headRY * g.uniform(0.46, 0.55)
        mouthW = headRX * g.uniform(0.36, 0.44)
        lipThick = headRY * g.uniform(0.028, 0.038)
        lips = RGB.mix(skin, RGB(0.70, 0.22, 0.25), g.uniform(0.35, 0.6))
        intensity = g.uniform(0.8, 1.1)
    }
}
