// RGBImage: 8-bit interleaved RGB pixels, row-major, the one in-memory image type of the data layer.

public struct RGBImage: Equatable {
    public let width: Int
    public let height: Int
    /// width * height * 3 bytes, rows top to bottom, R G B per pixel.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: pixel count does not match \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Validating initialiser for sizes that come from a user or a file.
    public init(width: Int, height: Int, pixels: [UInt8], path: String) throws {
        guard width > 0, height > 0, pixels.count == width * height * 3 else {
            throw IOError(path: path, "image \(width)x\(height) needs \(max(0, width * height * 3)) RGB bytes, got \(pixels.count)")
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}

extension RGBImage {
    /// Tiles in rows and columns, each cell the size of the first tile, `gutter` pixels of
    /// `background` between cells (contact sheets, source / reconstruction grids).
    public static func grid(_ rows: [[RGBImage]], gutter: Int = 0, background: UInt8 = 255) -> RGBImage {
        guard let first = rows.first?.first else { return RGBImage(width: 0, height: 0, pixels: []) }
        let cw = first.width, ch = first.height, cols = rows.map(\.count).max() ?? 0
        let width = cols * cw + (cols - 1) * gutter, height = rows.count * ch + (rows.count - 1) * gutter
        var out = [UInt8](repeating: background, count: width * height * 3)
        for (r, row) in rows.enumerated() {
            for (c, tile) in row.enumerated() {
                let x0 = c * (cw + gutter), y0 = r * (ch + gutter), w = min(cw, tile.width)
                for y in 0..<min(ch, tile.height) {
                    let src = y * tile.width * 3, dst = ((y0 + y) * width + x0) * 3
                    out.replaceSubrange(dst..<(dst + w * 3), with: tile.pixels[src..<(src + w * 3)])
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
