import Foundation

/// One rendered sample: the picture, the face box and 68 landmarks in pixels.
public struct RenderedFace {
    public var width: Int, height: Int
    /// Interleaved RGB8, [height, width, 3].
    public var pixels: [UInt8]
    /// Face box in pixels (x, y, width, height), inside the image.
    public var faceBox: (x: Int, y: Int, width: Int, height: Int)
    /// 68 points in the iBUG 300-W order (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
    /// mouth 48-67), in pixels, image-left first.
    public var landmarks: [Point]
}

/// Draws a synthetic face: background, hair, head, ears, neck and shirt, then the parts that
/// carry the expression (brows, eyes, nose lines, mouth). All geometry lives in the face's local
/// frame (`FaceFrame`), so jitter of position, scale and roll moves pixels and landmarks together.
public enum FaceRenderer {
    /// Renders sample `sample` of `seed` showing `expression`, or only its background when
    /// `expression` is nil (AffectNet's "No-Face" rows).
    public static func render(seed: UInt64, sample: Int, expression: FaceExpression?, resolution: Int) -> RenderedFace {
        let id = FaceIdentity(seed: seed, sample: sample)
        let shape = (expression ?? .neutral).shape.scaled(id.intensity)
        let size = Float(resolution)
        let frame = FaceFrame(centre: Point(id.centre.x * size, id.centre.y * size), scale: id.scale * size, roll: id.roll)
        var canvas = Canvas(width: resolution, height: resolution)
        drawBackground(&canvas, id)
        let geometry = FaceGeometry(id: id, shape: shape)
        if expression != nil { drawFace(&canvas, frame, id, shape, geometry) }

        let landmarks = geometry.landmarks.map(frame.toPixel)
        return RenderedFace(width: resolution, height: resolution, pixels: canvas.rgb8,
                            faceBox: faceBox(landmarks, resolution), landmarks: landmarks)
    }

    /// A square face box like AffectNet's detector boxes: the landmarks' bounding box grown
    /// upwards by a fifth for the forehead, squared about its centre and moved (not cut) to lie
    /// inside the image.
    static func faceBox(_ pts: [Point], _ resolution: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let (lo, hi) = SDF.bounds(pts, margin: 0)
        let top = lo.y - 0.2 * (hi.y - lo.y)
        let side = min(Int(max(hi.x - lo.x, hi.y - top).rounded(.up)), resolution)
        let cx = (lo.x + hi.x) / 2, cy = (top + hi.y) / 2
        let x0 = min(max(Int((cx - Float(side) / 2).rounded()), 0), resolution - side)
        let y0 = min(max(Int((cy - Float(side) / 2).rounded()), 0), resolution - side)
        return (x0, y0, max(1, side), max(1, side))
    }

    static func drawBackground(_ canvas: inout Canvas, _ id: FaceIdentity) {
        let n = Float(canvas.width)
        let dx = cos(id.backgroundAngle), dy = sin(id.backgroundAngle)
        canvas.paint { p in
            let u = p.x / n - 0.5, v = p.y / n - 0.5
            var c = RGB.mix(id.background0, id.background1, min(max((u * dx + v * dy) + 0.5, 0), 1))
            var ripple: Float = 0
            for r in id.ripples { ripple += r.amp * sin(r.kx * u + r.ky * v + r.phase) }
            c.r += ripple; c.g += ripple; c.b += ripple
            return c
        }
    }

    static func drawFace(_ canvas: inout Canvas, _ f: FaceFrame, _ id: FaceIdentity, _ e: ExpressionShape, _ g: FaceGeometry) {
        let rx = id.headRX, ry = id.headRY
        // Brows darker than the hair and clearly darker than the skin, so they read at 32 px.
        var browColour = RGB.mix(id.hair, RGB(0.10, 0.07, 0.05), 0.55)
        let luma = { (c: RGB) in 0.299 * c.r + 0.587 * c.g + 0.114 * c.b }
        if luma(browColour) > 0.45 * luma(id.skin) { browColour = browColour * (0.45 * luma(id.skin) / luma(browColour)) }
        let lineColour = id.skin * 0.62

        // Behind the head: long hair, shirt, neck, ears.
        if id.hairStyle == 1 {
            canvas.fill(f, bounds: (Point(-rx * 1.3, -ry * 1.0), Point(rx * 1.3, ry * 1.75)), colour: id.hair * 0.88) {
                SDF.roundedBox($0, centre: Point(0, ry * 0.38), hx: rx * 1.24, hy: ry * 1.3, r: rx * 0.9)
            }
        }
        canvas.fill(f, bounds: (Point(-rx * 2.6, ry * 1.25), Point(rx * 2.6, ry * 3.2)), colour: id.shirt) { SDF.ellipse($0, centre: Point(0, ry * 2.2), rx: rx * 2.5, ry: ry * 0.9) }
        canvas.fill(f, bounds: (Point(-rx * 0.5, ry * 0.3), Point(rx * 0.5, ry * 1.6)), colour: id.skin * 0.82) {
            SDF.roundedBox($0, centre: Point(0, ry * 0.95), hx: rx * 0.42, hy: ry * 0.62, r: rx * 0.1)
        }
        for s: Float in [-1, 1] {
            let c = Point(s * rx * 0.97, id.eyeY + ry * 0.12)
            canvas.fill(f, bounds: (Point(c.x - rx * 0.2, c.y - ry * 0.2), Point(c.x + rx * 0.2, c.y + ry * 0.2)), colour: id.skin * 0.9) {
                SDF.ellipse($0, centre: c, rx: rx * 0.13, ry: ry * 0.17)
            }
        }

        // Head and hair cap.
        let headBounds = (Point(-rx * 1.2, -ry * 1.2), Point(rx * 1.2, ry * 1.2))
        canvas.fill(f, bounds: headBounds, colour: id.skin) { g.head($0, grow: 1) }
        if e.cheekLift {
            for s: Float in [-1, 1] {
                let c = Point(s * id.eyeSpacing * 1.15, (id.eyeY + id.mouthY) * 0.5)
                canvas.fill(f, bounds: (Point(c.x - 0.05, c.y - 0.05), Point(c.x + 0.05, c.y + 0.05)),
                            colour: RGB(0.85, 0.35, 0.35), opacity: 0.16) { SDF.circle($0, centre: c, r: id.eyeW * 0.9) }
            }
        }
        let buzz = id.hairStyle == 2
        let capGrow: Float = buzz ? 1.02 : 1.08
        let hairline = buzz ? min(id.hairline * 1.25, 0.85) : id.hairline
        let capColour = buzz ? RGB.mix(id.hair, id.skin, 0.3) : id.hair
        canvas.fill(f, bounds: headBounds, colour: capColour) { p in
            // Inside the grown head and above the hairline y = -ry h + k x^2 + part x.
            let k = ry * 0.55 / (rx * rx), part = id.hairPart * ry / rx
            let lineY = -ry * hairline + k * p.x * p.x + part * p.x
            let slope = 2 * k * p.x + part
            let below = (p.y - lineY) / (1 + slope * slope).squareRoot()
            return max(g.head(Point(p.x, p.y + ry * 0.02), grow: capGrow), below)
        }

        // Brows.
        let outerToInner: [Float] = [id.browThick * 0.32, id.browThick * 0.55, id.browThick * 0.62]  // thin outer end
        for (brow, hw) in [(g.leftBrow, outerToInner), (g.rightBrow, outerToInner.reversed())] {
            canvas.fill(f, bounds: SDF.bounds(brow, margin: id.browThick), colour: browColour) {
                SDF.stroke($0, brow, halfWidths: hw)
            }
        }
        if e.frownLines {
            for s: Float in [-1, 1] {
                let line = [Point(s * id.eyeSpacing * 0.2, id.eyeY - id.browGap * 0.95), Point(s * id.eyeSpacing * 0.14, id.eyeY - id.browGap * 0.35)]
                canvas.fill(f, bounds: SDF.bounds(line, margin: 0.01), colour: lineColour, opacity: 0.9) {
                    SDF.stroke($0, line, halfWidths: [0.0035, 0.0035])
                }
            }
        }

        // Eyes: sclera, iris and pupil clipped to it, upper lid line.
        for s: Float in [-1, 1] {
            let c = Point(s * id.eyeSpacing, id.eyeY)
            let h = id.eyeH * e.eyeOpen
            let box = (Point(c.x - id.eyeW * 1.3, c.y - h - 0.02), Point(c.x + id.eyeW * 1.3, c.y + h + 0.02))
            let sclera = { (p: Point) in SDF.ellipse(p, centre: c, rx: id.eyeW, ry: h) }
            let irisC = Point(c.x + id.gaze * id.eyeW * 0.3, c.y)
            canvas.fill(f, bounds: box, colour: RGB(0.95, 0.94, 0.92)) { sclera($0) }
            canvas.fill(f, bounds: box, colour: id.iris) { max(SDF.circle($0, centre: irisC, r: id.eyeH * 0.8), sclera($0)) }
            canvas.fill(f, bounds: box, colour: RGB(0.04, 0.03, 0.03)) { max(SDF.circle($0, centre: irisC, r: id.eyeH * 0.36), sclera($0)) }
            let lid = (0...10).map { i -> Point in
                let a = Float.pi * Float(i) / 10
                return Point(c.x + id.eyeW * cos(a), c.y - h * sin(a))
            }
            canvas.fill(f, bounds: box, colour: RGB(0.12, 0.08, 0.07)) {
                SDF.stroke($0, lid, halfWidths: [Float](repeating: id.eyeH * 0.13, count: lid.count))
            }
        }

        // Nose: bridge shade, base curve, nostrils; wrinkles and folds for disgust, folds for a smile.
        let tipY = g.noseTipY
        let bridge = [Point(0, id.eyeY + id.eyeH * 0.6), Point(id.noseWidth * 0.15, tipY - 0.008)]
        canvas.fill(f, bounds: SDF.bounds(bridge, margin: 0.02), colour: id.skin * 0.8, opacity: 0.7) {
            SDF.stroke($0, bridge, halfWidths: [0.003, 0.005])
        }
        canvas.fill(f, bounds: SDF.bounds(g.noseBase, margin: 0.02), colour: id.skin * 0.7) {
            SDF.stroke($0, g.noseBase, halfWidths: [0.003, 0.005, 0.005, 0.005, 0.003])
        }
        for s: Float in [-1, 1] {
            let c = Point(s * id.noseWidth * 0.45, tipY + 0.004)
            canvas.fill(f, bounds: (Point(c.x - 0.03, c.y - 0.03), Point(c.x + 0.03, c.y + 0.03)), colour: id.skin * 0.42) {
                SDF.ellipse($0, centre: c, rx: id.noseWidth * 0.27, ry: id.noseWidth * 0.13)
            }
        }
        if e.noseWrinkle {
            for s: Float in [-1, 1] {
                for k: Float in [0, 1] {
                    let y0 = id.eyeY + g.noseLength * (0.28 + 0.16 * k)
                    let w = [Point(s * id.noseWidth * 0.45, y0), Point(s * id.noseWidth * 1.05, y0 + g.noseLength * 0.12)]
                    canvas.fill(f, bounds: SDF.bounds(w, margin: 0.01), colour: lineColour) { SDF.stroke($0, w, halfWidths: [0.003, 0.003]) }
                }
            }
        }
        if e.noseWrinkle || e.cheekLift {
            for s: Float in [-1, 1] {
                let corner = g.mouthCorner(s)
                let fold = [Point(s * id.noseWidth * 1.2, tipY - 0.004), Point(corner.x + s * 0.022, corner.y - 0.006)]
                canvas.fill(f, bounds: SDF.bounds(fold, margin: 0.01), colour: lineColour, opacity: 0.75) {
                    SDF.stroke($0, fold, halfWidths: [0.0025, 0.003])
                }
            }
        }

        // Mouth: opening, teeth, lips, and the line where closed lips meet.
        let mouthBox = SDF.bounds(g.upperOuter + g.lowerOuter, margin: 0.02)
        if g.opening > 0.002 {
            let inside = g.upperInner + g.lowerInner.reversed()
            canvas.fill(f, bounds: mouthBox, colour: RGB(0.28, 0.06, 0.08)) { SDF.polygon($0, inside) }
            if e.teeth {
                let th = min(g.opening * 0.5, 0.022)
                let edge = zip(g.upperInner, g.lowerInner).map { u, l in Point(u.x, min(u.y + th, l.y)) }
                let teeth = g.upperInner + edge.reversed()
                canvas.fill(f, bounds: mouthBox, colour: RGB(0.96, 0.95, 0.90)) { max(SDF.polygon($0, teeth), SDF.polygon($0, inside)) }
            }
        }
        canvas.fill(f, bounds: mouthBox, colour: id.lips) { SDF.stroke($0, g.upperLip, halfWidths: g.upperLipHW) }
        canvas.fill(f, bounds: mouthBox, colour: id.lips * 0.96) { SDF.stroke($0, g.lowerLip, halfWidths: g.lowerLipHW) }
        if g.opening <= 0.002 {
            canvas.fill(f, bounds: mouthBox, colour: id.lips * 0.5) {
                SDF.stroke($0, g.upperInner, halfWidths: [Float](repeating: 0.0028, count: g.upperInner.count))
            }
        }
    }
}
