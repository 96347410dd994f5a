// decodeImage: sniff the magic bytes (not the extension) and decode PNG or JPEG to RGB8.

public enum ImageFormat: String { case png, jpeg }

/// The format named by the first bytes, or nil.
public func sniffImageFormat(_ bytes: [UInt8]) -> ImageFormat? {
    let pngMagic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    if bytes.count >= 8 && Array(bytes.prefix(8)) == pngMagic { return .png }
    if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
    return nil
}

/// Decodes PNG or JPEG bytes; empty, truncated or non-image input throws an error naming `path`.
public func decodeImage(bytes: [UInt8], path: String) throws -> RGBImage {
    if bytes.isEmpty { throw IOError(path: path, "empty file (0 bytes), not an image") }
    switch sniffImageFormat(bytes) {
    case .png: return try decodePNG(bytes, path: path)
    case .jpeg: return try decodeJPEG(bytes, path: path)
    case nil: throw IOError(path: path, "not a PNG or JPEG (unrecognised first bytes)")
    }
}

/// Reads and decodes an image file.
public func decodeImage(path: String) throws -> RGBImage {
    try decodeImage(bytes: readFileBytes(path), path: path)
}
