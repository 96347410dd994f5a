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
