// decodeImage: sniff the magic bytes (not the extension) and decode PNG or JPEG to RGB8.
// Pixel semantics (docs/data.md): what Pillow's Image.open(p).convert("RGB") gives, within 1 level:
// 16-bit samples -> 8 bits, no gamma or colour-profile correction, alpha dropped (or composited
// onto a background only when asked), EXIF orientation NOT applied (stored pixel order).

/// A colour to composite transparent pixels onto.
public struct ImageBackground: Equatable {
    public var rgb: [UInt8]
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { rgb = [r, g, b] }
}

/// Limits and choices for decoding untrusted files.
public struct ImageDecodeOptions {
    /// Largest width * height accepted; checked from the header before any pixel memory is taken.
    /// 8192 x 8192 by default (about 200 MB of RGB), far above any face dataset's photos.
    public var maxPixels: Int
    /// nil: alpha is dropped (Pillow's convert("RGB")); else transparent pixels are composited onto it.
    public var background: ImageBackground?

    public init(maxPixels: Int = 1 << 26, background: ImageBackground? = nil) {
        self.maxPixels = maxPixels
        self.background = background
    }

    public static let `default` = ImageDecodeOptions()
}

public enum ImageFormat: String { case png, jpeg }

/// The format named by the first bytes, or nil.
public func sniffImageFormat(_ bytes: [UInt8]) -> ImageFormat? {
    let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    if bytes.count >= 8 && Array(bytes.prefix(8)) == pngMagic { return .png }
    if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
    return nil
}

/// Decodes PNG or JPEG bytes; empty, truncated or non-image input throws an error naming `path`.
public func decodeImage(bytes: [UInt8], path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    if bytes.isEmpty { throw IOError(path: path, "empty file (0 bytes), not an image") }
    switch sniffImageFormat(bytes) {
    case .png: return try decodePNG(bytes, path: path, options: options)
    case .jpeg: return try decodeJPEG(bytes, path: path, options: options)
    case nil: throw IOError(path: path, "not a PNG or JPEG (unrecognised first bytes)")
    }
}

/// Reads and decodes an image file.
public func decodeImage(path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    let bytes = try readFileBytes(path)
    return try decodeImage(bytes: bytes, path: path, options: options)
}
