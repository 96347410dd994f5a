// PNG through libpng's simplified API (png_image_*). The classic API reports errors with longjmp,
// which must never cross Swift frames; the simplified API returns codes and a message instead.
// Decoding asks for 8-bit RGB: libpng then expands palettes, grey, low bit depths, 16-bit and
// interlacing for us; alpha is composited onto black.
import CPNG
import Foundation

/// libpng's message from a failed png_image (a 64-byte C string inside the struct).
private func pngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Decodes PNG bytes into RGB8. `path` is only used in error messages.
public func decodePNG(_ bytes: [UInt8], path: String) throws -> RGBImage {
    if bytes.isEmpty { throw IOError(path: path, "empty file, not a PNG") }
    var image = cpng_image_init()
    let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    if ok == 0 {
        let msg = pngMessage(&image)
        png_image_free(&image)
        throw IOError(path: path, "PNG decode failed: \(msg)")
    }
    image.format = cpng_format_rgb()
    let width = Int(image.width), height = Int(image.height)
    // Guard the allocation against hostile headers (libpng already caps dimensions at 2^31).
    guard width > 0, height > 0, width * height <= 1 << 28 else {
        png_image_free(&image)
        throw IOError(path: path, "PNG dimensions \(width)x\(height) out of range")
    }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let done = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    if done == 0 {
        let msg = pngMessage(&image)
        png_image_free(&image)
        throw IOError(path: path, "PNG decode failed: \(msg)")
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// Reads and decodes a PNG file.
public func decodePNG(path: String) throws -> RGBImage {
    try decodePNG(readFileBytes(path), path: path)
}

/// Encodes RGB8 to PNG bytes (libpng's default zlib level).
public func encodePNG(_ img: RGBImage, path: String = "<memory>") throws -> [UInt8] {
    guard img.width > 0, img.height > 0, img.pixels.count == img.width * img.height * 3 else {
        throw IOError(path: path, "cannot encode a \(img.width)x\(img.height) image with \(img.pixels.count) bytes")
    }
    var image = cpng_image_init()
    image.width = png_uint_32(img.width)
    image.height = png_uint_32(img.height)
    image.format = cpng_format_rgb()
    var size: png_alloc_size_t = 0
    // First call sizes the output, second writes it.
    var ok = img.pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
    if ok == 0 || size == 0 {
        let msg = pngMessage(&image)
        png_image_free(&image)
        throw IOError(path: path, "PNG encode failed: \(msg)")
    }
    var out = [UInt8](repeating: 0, count: Int(size))
    ok = out.withUnsafeMutableBytes { dst in
        img.pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
    }
    if ok == 0 {
        let msg = pngMessage(&image)
        png_image_free(&image)
        throw IOError(path: path, "PNG encode failed: \(msg)")
    }
    return Array(out.prefix(Int(size)))
}

/// Encodes RGB8 and writes it to `path` (atomically: a temporary name, then rename).
public func writePNG(_ img: RGBImage, path: String) throws {
    try writeFileBytes(encodePNG(img, path: path), path: path)
}

/// Whole-file read with an error naming the path.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            throw IOError(path: path, isDir.boolValue ? "is a directory" : "cannot read (permissions?)")
        }
        throw IOError(path: path, "no such file")
    }
    return [UInt8](data)
}

/// Atomic whole-file write: temporary sibling, then rename over `path`.
public func writeFileBytes(_ bytes: [UInt8], path: String) throws {
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw IOError(path: path, "cannot write: \(error.localizedDescription)")
    }
}
