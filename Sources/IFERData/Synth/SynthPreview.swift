/// A contact sheet: one row per identity, one column per expression (AffectNet order: neutral,
/// happy, sad, surprise, fear, disgust, anger), so a reader can check that every expression is
/// readable on every kind of face.
public enum SynthPreview {
    /// RGB8 [rows * cell, 7 * cell, 3] with a 2-pixel white gutter between cells.
    public static func grid(seed: UInt64, identities: Int, cell: Int) -> (width: Int, height: Int, pixels: [UInt8]) {
        let gutter = 2
        let cols = FaceExpression.allCases.count
        let width = cols * cell + (cols - 1) * gutter, height = identities * cell + (identities - 1) * gutter
        var out = [UInt8](repeating: 255, count: width * height * 3)
        for row in 0..<identities {
            for e in FaceExpression.allCases {
                let face = FaceRenderer.render(seed: seed, sample: row, expression: e, resolution: cell)
                let x0 = e.rawValue * (cell + gutter), y0 = row * (cell + gutter)
                for y in 0..<cell {
                    let src = y * cell * 3, dst = ((y0 + y) * width + x0) * 3
                    out.replaceSubrange(dst..<(dst + cell * 3), with: face.pixels[src..<(src + cell * 3)])
                }
            }
        }
        return (width, height, out)
    }
}
