import Foundation

/// The face's shapes in local units (head centre at the origin, y down), shared by the drawing
/// code and the 68 landmarks so the two always agree.
struct FaceGeometry {
    let id: FaceIdentity
    // Brows as 3-point polylines, outer -> middle -> inner for the image-left brow and
    // inner -> middle -> outer for the image-right one (the iBUG order).
    var leftBrow: [Point] = [], rightBrow: [Point] = []
    var noseTipY: Float = 0, noseLength: Float = 0
    var noseBase: [Point] = []
    // Mouth curves sampled at t = -1 ... 1 (image left to right).
    var mouthHalfWidth: Float = 0
    var opening: Float = 0
    var upperInner: [Point] = [], lowerInner: [Point] = []   // edges of the opening
    var upperOuter: [Point] = [], lowerOuter: [Point] = []   // outer edges of the lips
    var upperLip: [Point] = [], lowerLip: [Point] = []       // lip stroke centre lines
    var upperLipHW: [Float] = [], lowerLipHW: [Float] = []
    var shape: ExpressionShape

    static let mouthSamples = 17

    init(id: FaceIdentity, shape e: ExpressionShape) {
        self.id = id
        shape = e

        // Brows: a base line above the eye, the inner end tilted, the middle arched.
        for s: Float in [-1, 1] {
            let base = id.eyeY - id.browGap - e.browRaise
            let inner = Point(s * (id.eyeSpacing - id.browLength * 0.5), base - e.browInnerTilt)
            let middle = Point(s * (id.eyeSpacing + id.browLength * 0.05), base - 0.006 - e.browArch - e.browInnerTilt * 0.2)
            let outer = Point(s * (id.eyeSpacing + id.browLength * 0.58), base + 0.004 + max(e.browInnerTilt, 0) * 0.35)
            if s < 0 { leftBrow = [outer, middle, inner] } else { rightBrow = [inner, middle, outer] }
        }

        noseLength = id.noseLength
        noseTipY = id.eyeY + id.noseLength
        let nw = id.noseWidth
        noseBase = [Point(-nw, noseTipY - 0.004), Point(-nw * 0.5, noseTipY + 0.008), Point(0, noseTipY + 0.011),
                    Point(nw * 0.5, noseTipY + 0.008), Point(nw, noseTipY - 0.004)]

        // Mouth: a centre curve (corners lifted by the curvature, tilted by a sneer), an opening
        // around it, lips outside the opening.
        let w = id.mouthW * e.mouthWidth
        mouthHalfWidth = w
        opening = e.mouthOpen
        let my = id.mouthY
        let thick = id.lipThick * e.lipThickness
        for i in 0..<FaceGeometry.mouthSamples {
            let t = -1 + 2 * Float(i) / Float(FaceGeometry.mouthSamples - 1)
            let x = w * t
            let mid = my - e.mouthCurve * t * t - e.mouthTilt * t
            let profile = e.roundMouth ? max(0, 1 - t * t).squareRoot() : 1 - t * t
            let up = mid - e.mouthOpen * 0.38 * profile
            let down = mid + e.mouthOpen * 0.62 * profile
            let taper = 0.3 + 0.7 * (1 - t * t)
            let hu = thick * 0.5 * taper, hl = thick * 0.5 * taper * (e.lowerLipPout ? 1.45 : 1.2)
            upperInner.append(Point(x, up)); lowerInner.append(Point(x, down))
            upperLip.append(Point(x, up - hu)); lowerLip.append(Point(x, down + hl))
            upperLipHW.append(hu); lowerLipHW.append(hl)
            upperOuter.append(Point(x, up - 2 * hu)); lowerOuter.append(Point(x, down + 2 * hl))
        }
    }

    /// Radius of the head outline at angle a (y down, so a = pi/2 is the chin): an ellipse whose
    /// lower half narrows towards the jaw corners by `jaw`.
    func headRadius(_ a: Float) -> Float {
        let c = cos(a), s = sin(a)
        var r = 1 / ((c * c) / (id.headRX * id.headRX) + (s * s) / (id.headRY * id.headRY)).squareRoot()
        if s > 0 { r *= 1 - id.jaw * s * pow(abs(c), 1.2) }
        return r
    }

    /// Approximate signed distance to the head outline scaled by `grow` (|p| - r(angle)).
    func head(_ p: Point, grow: Float) -> Float {
        let d = (p.x * p.x + p.y * p.y).squareRoot()
        return d - grow * headRadius(atan2(p.y, p.x))
    }

    func mouthCorner(_ side: Float) -> Point { side < 0 ? upperInner[0] : upperInner[upperInner.count - 1] }

    /// Mouth curve point at t in [-1, 1] by linear interpolation of the samples.
    func at(_ curve: [Point], _ t: Float) -> Point {
        let u = (t + 1) / 2 * Float(curve.count - 1)
        let i = min(Int(u), curve.count - 2)
        let f = u - Float(i)
        return Point(curve[i].x + (curve[i + 1].x - curve[i].x) * f, curve[i].y + (curve[i + 1].y - curve[i].y) * f)
    }

    /// The 68 iBUG points in local units.
    var landmarks: [Point] {
        var pts: [Point] = []
        // 0-16 jaw, image-left at about eye level, round the chin, to image-right.
        let d: Float = 0.08
        for i in 0..<17 {
            let a = (Float.pi + d) - Float(i) * (Float.pi + 2 * d) / 16
            let r = headRadius(a)
            pts.append(Point(r * cos(a), r * sin(a)))
        }
        // 17-21 left brow outer -> inner, 22-26 right brow inner -> outer.
        for brow in [leftBrow, rightBrow] {
            for k in 0..<5 { pts.append(FaceGeometry.along(brow, Float(k) / 4)) }
        }
        // 27-30 nose bridge top -> tip, 31-35 nose base left -> right.
        for k in 0..<4 { pts.append(Point(0, id.eyeY + (noseTipY - id.eyeY) * Float(k) / 3)) }
        pts += noseBase
        // 36-41 left eye: outer corner, two upper, inner corner, two lower;
        // 42-47 right eye: inner corner, two upper, outer corner, two lower.
        let h = id.eyeH * shape.eyeOpen
        let lidY = h * (1 - 1 / 9.0 as Float).squareRoot()
        for s: Float in [-1, 1] {
            let cx = s * id.eyeSpacing, cy = id.eyeY, w = id.eyeW
            // Walk clockwise on screen from the left corner: left, upper-left, upper-right, right,
            // lower-right, lower-left. The left eye starts at its outer corner, the right at its inner.
            pts += [Point(cx - w, cy), Point(cx - w / 3, cy - lidY), Point(cx + w / 3, cy - lidY),
                    Point(cx + w, cy), Point(cx + w / 3, cy + lidY), Point(cx - w / 3, cy + lidY)]
        }
        // 48-59 outer lip: left corner, upper outer edge, right corner, lower outer edge back.
        pts.append(at(upperInner, -1))
        for t: Float in [-2 / 3, -1 / 3, 0, 1 / 3, 2 / 3] { pts.append(at(upperOuter, t)) }
        pts.append(at(upperInner, 1))
        for t: Float in [2 / 3, 1 / 3, 0, -1 / 3, -2 / 3] { pts.append(at(lowerOuter, t)) }
        // 60-67 inner lip: left corner, upper inner edge, right corner, lower inner edge back.
        pts.append(at(upperInner, -0.92))
        for t: Float in [-0.5, 0, 0.5] { pts.append(at(upperInner, t)) }
        pts.append(at(upperInner, 0.92))
        for t: Float in [0.5, 0, -0.5] { pts.append(at(lowerInner, t)) }
        return pts
    }

    /// Point at fraction u of a polyline's vertex sequence (by segment count, not length).
    static func along(_ pts: [Point], _ u: Float) -> Point {
        let x = u * Float(pts.count - 1)
        let i = min(Int(x), pts.count - 2)
        let f = x - Float(i)
        return Point(pts[i].x + (pts[i + 1].x - pts[i].x) * f, pts[i].y + (pts[i + 1].y - pts[i].y) * f)
    }
}
