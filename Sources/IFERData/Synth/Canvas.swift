import Foundation

/// A colour with float channels in [0, 1].
public struct RGB: Equatable, Sendable {
    public var r: Float, g: Float, b: Float
    public init(_ r: Float, _ g: Float, _ b: Float) { self.r = r; self.g = g; self.b = b }

    public static func * (c: RGB, s: Float) -> RGB { RGB(c.r * s, c.g * s, c.b * s) }
    /// Linear blend: t = 0 gives a, t = 1 gives b.
    public static func mix(_ a: RGB, _ b: RGB, _ t: Float) -> RGB {
        RGB(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }
    var clamped: RGB { RGB(min(max(r, 0), 1), min(max(g, 0), 1), min(max(b, 0), 1)) }
}

/// A 2-D point or vector.
public struct Point: Equatable, Sendable {
    public var x: Float, y: Float
    public init(_ x: Float, _ y: Float) { self.x = x; self.y = y }
}

/// Maps a face's local coordinates (head centre at the origin, one unit = the image side at
/// scale 1, y down) to pixels: pixel = centre + scale * R(roll) * local. Shapes are described
/// in local units and rasterised through this frame, so position, size and roll jitter apply to
/// every feature (and landmark) at once.
public struct FaceFrame: Sendable {
    public var centre: Point   // pixels
    public var scale: Float    // pixels per local unit
    public var roll: Float     // radians, clockwise on screen
    let c: Float, s: Float

    public init(centre: Point, scale: Float, roll: Float) {
        self.centre = centre; self.scale = scale; self.roll = roll
        c = Foundation.cos(roll); s = Foundation.sin(roll)
    }

    public func toPixel(_ p: Point) -> Point {
        Point(centre.x + scale * (c * p.x - s * p.y), centre.y + scale * (s * p.x + c * p.y))
    }

    public func toLocal(_ p: Point) -> Point {
        let dx = (p.x - centre.x) / scale, dy = (p.y - centre.y) / scale
        return Point(c * dx + s * dy, -s * dx + c * dy)
    }
}

/// An RGB raster that shapes are blended into with analytic anti-aliasing: every shape is a
/// signed distance function (negative inside), and a pixel's coverage is clamp(0.5 - d, 0, 1)
/// with d in pixels, which is the exact covered fraction for a straight edge crossing the pixel
/// square along an axis and close to it otherwise. Works the same at 16 px and at 1024 px.
public struct Canvas {
    public let width: Int, height: Int
    /// [height, width, 3] float channels in [0, 1].
    public private(set) var values: [Float]

    public init(width: Int, height: Int, fill: RGB = RGB(0, 0, 0)) {
        self.width = width; self.height = height
        values = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            values[3 * i] = fill.r; values[3 * i + 1] = fill.g; values[3 * i + 2] = fill.b
        }
    }

    /// Sets every pixel from a function of its centre (pixel units).
    public mutating func paint(_ colour: (Point) -> RGB) {
        values.withUnsafeMutableBufferPointer { v in
            for y in 0..<height {
                for x in 0..<width {
                    let c = colour(Point(Float(x) + 0.5, Float(y) + 0.5)).clamped
                    let i = 3 * (y * width + x)
                    v[i] = c.r; v[i + 1] = c.g; v[i + 2] = c.b
                }
            }
        }
    }

    /// Blends `colour` over the pixels covered by a shape given in the frame's local units.
    /// `bounds` (local units, min and max corner) limits the pixels visited; `sdf` returns the
    /// signed distance in local units, converted to pixels through the frame's scale.
    public mutating func fill(_ frame: FaceFrame, bounds: (Point, Point), colour: RGB, opacity: Float = 1,
                              _ sdf: (Point) -> Float) {
        // The pixel box of the rotated local box: transform its four corners.
        let (lo, hi) = bounds
        let corners = [Point(lo.x, lo.y), Point(hi.x, lo.y), Point(lo.x, hi.y), Point(hi.x, hi.y)].map(frame.toPixel)
        let x0 = max(0, Int(floor(corners.map(\.x).min()! - 1))), x1 = min(width - 1, Int(ceil(corners.map(\.x).max()! + 1)))
        let y0 = max(0, Int(floor(corners.map(\.y).min()! - 1))), y1 = min(height - 1, Int(ceil(corners.map(\.y).max()! + 1)))
        guard x0 <= x1, y0 <= y1 else { return }
        let col = colour.clamped
        values.withUnsafeMutableBufferPointer { v in
            for y in y0...y1 {
                for x in x0...x1 {
                    let local = frame.toLocal(Point(Float(x) + 0.5, Float(y) + 0.5))
                    let d = sdf(local) * frame.scale
                    let a = min(max(0.5 - d, 0), 1) * opacity
                    if a <= 0 { continue }
                    let i = 3 * (y * width + x)
                    v[i] += (col.r - v[i]) * a
                    v[i + 1] += (col.g - v[i + 1]) * a
                    v[i + 2] += (col.b - v[i + 2]) * a
                }
            }
        }
    }

    /// Interleaved RGB8 bytes, [height, width, 3], rounded to nearest.
    public var rgb8: [UInt8] {
        values.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) }
    }
}

/// Signed distance functions in local units (negative inside). Approximate where noted; only the
/// zero crossing and the gradient near it matter for anti-aliasing.
enum SDF {
    /// Axis-aligned ellipse (Quilez's first-order approximation k0 (k0 - 1) / k1).
    static func ellipse(_ p: Point, centre: Point, rx: Float, ry: Float) -> Float {
        let dx = p.x - centre.x, dy = p.y - centre.y
        let k0 = ((dx / rx) * (dx / rx) + (dy / ry) * (dy / ry)).squareRoot()
        let k1 = ((dx / (rx * rx)) * (dx / (rx * rx)) + (dy / (ry * ry)) * (dy / (ry * ry))).squareRoot()
        if k1 < 1e-12 { return -min(rx, ry) }
        return k0 * (k0 - 1) / k1
    }

    static func circle(_ p: Point, centre: Point, r: Float) -> Float {
        ((p.x - centre.x) * (p.x - centre.x) + (p.y - centre.y) * (p.y - centre.y)).squareRoot() - r
    }

    /// Distance to the segment a-b and the position along it (0 at a, 1 at b).
    static func segment(_ p: Point, _ a: Point, _ b: Point) -> (d: Float, t: Float) {
        let bax = b.x - a.x, bay = b.y - a.y, pax = p.x - a.x, pay = p.y - a.y
        let len2 = bax * bax + bay * bay
        let t = len2 > 0 ? min(max((pax * bax + pay * bay) / len2, 0), 1) : 0
        let dx = pax - bax * t, dy = pay - bay * t
        return ((dx * dx + dy * dy).squareRoot(), t)
    }

    /// A stroke along a polyline whose half-width is interpolated between per-vertex values
    /// (tapered brows and lips), with round caps.
    static func stroke(_ p: Point, _ pts: [Point], halfWidths: [Float]) -> Float {
        var best = Float.greatestFiniteMagnitude
        for i in 0..<(pts.count - 1) {
            let (d, t) = segment(p, pts[i], pts[i + 1])
            best = min(best, d - (halfWidths[i] + (halfWidths[i + 1] - halfWidths[i]) * t))
        }
        return best
    }

    /// A closed polygon (even-odd inside test, exact distance to the edges).
    static func polygon(_ p: Point, _ pts: [Point]) -> Float {
        var best = Float.greatestFiniteMagnitude
        var inside = false
        var j = pts.count - 1
        for i in 0..<pts.count {
            let a = pts[j], b = pts[i]
            best = min(best, segment(p, a, b).d)
            if (b.y > p.y) != (a.y > p.y) && p.x < (a.x - b.x) * (p.y - b.y) / (a.y - b.y) + b.x { inside.toggle() }
            j = i
        }
        return inside ? -best : best
    }

    /// Rounded box centred at `centre` with half sizes hx, hy and corner radius r.
    static func roundedBox(_ p: Point, centre: Point, hx: Float, hy: Float, r: Float) -> Float {
        let qx = abs(p.x - centre.x) - hx + r, qy = abs(p.y - centre.y) - hy + r
        let ox = max(qx, 0), oy = max(qy, 0)
        return (ox * ox + oy * oy).squareRoot() + min(max(qx, qy), 0) - r
    }

    /// Bounding box of points, grown by a margin.
    static func bounds(_ pts: [Point], margin: Float) -> (Point, Point) {
        var lo = Point(.greatestFiniteMagnitude, .greatestFiniteMagnitude), hi = Point(-.greatestFiniteMagnitude, -.greatestFiniteMagnitude)
        for q in pts { lo.x = min(lo.x, q.x); lo.y = min(lo.y, q.y); hi.x = max(hi.x, q.x); hi.y = max(hi.y, q.y) }
        return (Point(lo.x - margin, lo.y - margin), Point(hi.x + margin, hi.y + margin))
    }
}
