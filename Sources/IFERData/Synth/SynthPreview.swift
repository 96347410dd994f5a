import IFERIO

/// A contact sheet: one row per identity, one column per expression (AffectNet order: neutral,
/// happy, sad, surprise, fear, disgust, anger), so a reader can check that every expression is
/// readable on every kind of face.
public enum SynthPreview {
    /// RGB8 [rows * cell, 7 * cell, 3] with a 2-pixel white gutter between cells.
    public static func grid(seed: UInt64, identities: Int, cell: Int) -> (width: Int, height: Int, pixels: [UInt8]) {
        let rows = (0..<identities).map { row in
            FaceExpression.allCases.map { e in
                let face = FaceRenderer.render(seed: seed, sample: row, expression: e, resolution: cell)
                return RGBImage(width: face.width, height: face.height, pixels: face.pixels)
            }
        }
        let sheet = RGBImage.grid(rows, gutter: 2)
        return (sheet.width, sheet.height, sheet.pixels)
    }
}
