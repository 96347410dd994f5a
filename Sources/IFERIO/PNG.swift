// PNG through libpng's simplified API (png_image_*). The classic API reports errors with longjmp,
// which must never cross Swift frames; the simplified API returns codes and a message instead.
//
// Untrusted input is handled in two steps:
// 1. `sanitizePNG` walks the chunk list itself (no allocation beyond a copy of the file): it reads
//    IHDR, checks the pixel budget and that the image data could plausibly hold that many pixels
//    (deflate cannot expand more than 1032:1), and keeps only the chunks that define pixels
//    (IHDR, PLTE, tRNS, IDAT, IEND). Every other ancillary chunk (text, iCCP, eXIf, gAMA, cHRM,
//    sRGB, ...) is dropped, so libpng never allocates for it: the equivalent of
//    png_set_chunk_malloc_max(0-ish) / png_set_chunk_cache_max, which the simplified API lacks.
// 2. libpng decodes the sanitised stream to 8-bit RGB or RGBA. With no gAMA/cHRM/iCCP chunks it
//    treats 8-bit data as sRGB and does no gamma work; a 16-bit stream gets an sRGB chunk so libpng
//    scales 16 -> 8 bits (round(v / 257), within 1 level of the high byte Pillow keeps) instead of
//    treating it as linear light. Alpha is dropped (Pillow's convert("RGB")), or composited onto
//    `ImageDecodeOptions.background` when one is set.
import CPNG
import Foundation

/// libpng's message from a failed png_image (a 64-byte C string inside the struct).
private func pngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// What IHDR says, plus whether the image carries alpha (colour type 4/6 or a tRNS chunk).
struct PNGHeader: Equatable {
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorType: Int
    var interlaced: Bool
    var hasAlpha: Bool

    /// 16-bit images are read as 16-bit linear samples (libpng does no gamma work on linear in,
    /// linear out) and reduced to their high byte here, except 16-bit with alpha, not interlaced:
    /// linear output would be premultiplied, so those are read as 8-bit (libpng's round(v / 257)).
    /// (libpng 1.6's 16 -> 8-bit reduction scrambles interlaced images, so it is never used for them.)
    var readsLinear: Bool { bitDepth == 16 && (!hasAlpha || interlaced) }
}

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

@inline(__always) private func be32(_ b: [UInt8], _ i: Int) -> Int {
    Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
}

/// A chunk with `data` as its payload (length, type, data, CRC over type + data).
private func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in body {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    crc ^= 0xFFFF_FFFF
    let n = UInt32(data.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
        + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
}

/// Walks the chunks, checks the header against `maxPixels` and the data size, and returns the
/// header and the stream libpng is given (signature, IHDR, [sRGB if 16-bit], PLTE, tRNS, IDAT..., IEND).
func sanitizePNG(_ bytes: [UInt8], path: String, maxPixels: Int) throws -> (PNGHeader, [UInt8]) {
    guard bytes.count >= 8, Array(bytes.prefix(8)) == pngSignature else {
        throw IOError(path: path, "not a PNG (bad signature)")
    }
    var out = pngSignature
    out.reserveCapacity(bytes.count)
    var header: PNGHeader? = nil
    var idatBytes = 0
    var sawIEND = false
    var pos = 8
    while pos < bytes.count {
        guard pos + 8 <= bytes.count else { throw IOError(path: path, "truncated PNG: chunk header at byte \(pos) is cut off") }
        let length = be32(bytes, pos)
        let typeBytes = Array(bytes[(pos + 4)..<(pos + 8)])
        guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
            throw IOError(path: path, "corrupt PNG: chunk at byte \(pos) has a type that is not 4 letters")
        }
        let type = String(decoding: typeBytes, as: UTF8.self)
        guard length <= 0x7FFF_FFFF, length + 12 <= bytes.count - pos else {
            throw IOError(path: path, "truncated PNG: chunk '\(type)' at byte \(pos) claims \(length) bytes, only \(bytes.count - pos - 12) left")
        }
        let whole = bytes[pos..<(pos + 12 + length)]
        if header == nil {
            guard type == "IHDR", length == 13 else { throw IOError(path: path, "corrupt PNG: first chunk is '\(type)', not a 13-byte IHDR") }
            let w = be32(bytes, pos + 8), h = be32(bytes, pos + 12)
            let depth = Int(bytes[pos + 16]), colour = Int(bytes[pos + 17]), interlace = bytes[pos + 20]
            guard w > 0, h > 0, w <= 0x7FFF_FFFF, h <= 0x7FFF_FFFF else {
                throw IOError(path: path, "PNG header claims an image of \(w)x\(h) pixels")
            }
            guard w * h <= maxPixels else {
                throw IOError(path: path, "PNG header claims \(w)x\(h) = \(w * h) pixels, above the decoder's limit of \(maxPixels)")
            }
            header = PNGHeader(width: w, height: h, bitDepth: depth, colorType: colour, interlaced: interlace != 0,
                               hasAlpha: colour == 4 || colour == 6)
            out += whole
        } else if type == "IHDR" {
            throw IOError(path: path, "corrupt PNG: second IHDR chunk at byte \(pos)")
        } else if type == "PLTE" || type == "IDAT" || type == "tRNS" {
            if type == "IDAT" { idatBytes += length }
            if type == "tRNS" { header?.hasAlpha = true }
            out += whole
        } else if type == "IEND" {
            out += whole
            sawIEND = true
            break
        } else if typeBytes[0] < 97 {
            // Upper-case first letter: a critical chunk this decoder does not know; it may change the pixels.
            throw IOError(path: path, "PNG has an unknown critical chunk '\(type)' at byte \(pos)")
        }
        // Any other ancillary chunk is skipped without being read.
        pos += 12 + length
    }
    guard let header else { throw IOError(path: path, "truncated PNG: no IHDR chunk") }
    guard sawIEND else { throw IOError(path: path, "truncated PNG: no IEND chunk (the file ends at byte \(bytes.count))") }
    // 16-bit read as 8-bit (see decodePNG): an sRGB chunk right after IHDR stops libpng treating
    // the samples as linear light.
    if header.bitDepth == 16 && !header.readsLinear { out.insert(contentsOf: pngChunk("sRGB", [0]), at: 8 + 25) }
    // Bytes of filtered scanlines if not interlaced (interlacing only adds to this).
    let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][header.colorType] ?? 4
    let rowBytes = (header.width * channels * max(header.bitDepth, 1) + 7) / 8 + 1
    let (raw, overflow) = rowBytes.multipliedReportingOverflow(by: header.height)
    // Deflate expands at most 1032:1 (a 258-byte match coded in 2 bits); a little slack for tiny images.
    guard !overflow, raw <= idatBytes * 1040 + 4096 else {
        throw IOError(path: path, "PNG header claims \(header.width)x\(header.height) pixels, but its \(idatBytes) bytes of image data cannot hold them (truncated or forged file)")
    }
    return (header, out)
}

/// Decodes PNG bytes into RGB8 (see the top of this file for the pixel semantics).
/// `path` is only used in error messages.
public func decodePNG(_ bytes: [UInt8], path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    if bytes.isEmpty { throw IOError(path: path, "empty file, not a PNG") }
    let (header, stream) = try sanitizePNG(bytes, path: path, maxPixels: options.maxPixels)
    // libpng reads from `stream` until png_image_finish_read returns, so both calls stay inside
    // one withUnsafeBytes (the array must not be released in between).
    let channels = header.hasAlpha ? 4 : 3
    let sampleBytes = header.readsLinear ? 2 : 1
    var failure: String? = nil
    var raw = [UInt8]()
    stream.withUnsafeBytes { src in
        var image = cpng_image_init()
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_memory(&image, src.baseAddress, src.count) != 0 else {
            failure = pngMessage(&image)
            return
        }
        image.format = (header.hasAlpha ? cpng_format_rgba() : cpng_format_rgb()) | (header.readsLinear ? cpng_format_linear() : 0)
        guard Int(image.width) == header.width, Int(image.height) == header.height else {
            failure = "libpng read \(image.width)x\(image.height), IHDR says \(header.width)x\(header.height)"
            return
        }
        // Uninitialised: pages are only touched as libpng writes rows.
        raw = [UInt8](unsafeUninitializedCapacity: header.width * header.height * channels * sampleBytes) { buf, count in
            if png_image_finish_read(&image, nil, buf.baseAddress, 0, nil) == 0 {
                failure = pngMessage(&image)
                count = 0
            } else {
                count = buf.count
            }
        }
    }
    if let failure { throw IOError(path: path, "PNG decode failed: \(failure)") }
    let width = header.width, height = header.height
    var pixels = header.readsLinear ? highBytes(raw, pixels: width * height, alpha: header.hasAlpha) : raw
    if header.hasAlpha { dropAlpha(&pixels, pixels: width * height, background: options.background) }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// 16-bit native-endian samples (RGB or premultiplied RGBA, as libpng's linear output) -> 8-bit
/// high bytes, with premultiplied colour divided back by alpha (a fully transparent pixel's colour
/// is lost: 0).
func highBytes(_ raw: [UInt8], pixels n: Int, alpha: Bool) -> [UInt8] {
    let ch = alpha ? 4 : 3
    var out = [UInt8](repeating: 0, count: n * ch)
    raw.withUnsafeBytes { r in
        let s = r.bindMemory(to: UInt16.self)
        for i in 0..<n {
            let a = alpha ? Int(s[ch * i + 3]) : 65535
            for c in 0..<3 {
                let v = Int(s[ch * i + c])
                let straight = a == 65535 ? v : (a == 0 ? 0 : min(65535, (v * 65535 + a / 2) / a))
                out[ch * i + c] = UInt8(straight >> 8)
            }
            if alpha { out[ch * i + 3] = UInt8(a >> 8) }
        }
    }
    return out
}

/// RGBA -> RGB in place: alpha dropped, or the colour composited onto `background`
/// (c * a + bg * (255 - a), in 8-bit sRGB values, as Pillow's alpha_composite).
func dropAlpha(_ rgba: inout [UInt8], pixels n: Int, background: ImageBackground?) {
    rgba.withUnsafeMutableBufferPointer { p in
        for i in 0..<n {
            let a = Int(p[4 * i + 3])
            for c in 0..<3 {
                let v = Int(p[4 * i + c])
                if let bg = background {
                    let b = Int(bg.rgb[c])
                    p[3 * i + c] = UInt8((v * a + b * (255 - a) + 127) / 255)
                } else {
                    p[3 * i + c] = UInt8(v)
                }
            }
        }
    }
    rgba.removeLast(n)
}

/// Reads and decodes a PNG file.
public func decodePNG(path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    let bytes = try readFileBytes(path)
    return try decodePNG(bytes, path: path, options: options)
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
