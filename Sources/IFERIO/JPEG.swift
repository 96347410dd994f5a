// JPEG through TurboJPEG (tj* calls return codes; the classic libjpeg API would need setjmp).
// RGB and greyscale JPEGs decode straight to RGB; CMYK/YCCK JPEGs decode to CMYK and are
// converted here, undoing the inversion Adobe applications store (APP14 "Adobe" marker).
// Untrusted input: the header is read first and the pixel budget checked before the output is
// allocated (uninitialised, so pages are only touched as rows are decoded); decoding stops at the
// first libjpeg warning (TJFLAG_STOPONWARNING: a truncated file claiming a huge image costs
// nothing) and progressive files are limited to 500 scans (TJFLAG_LIMITSCANS). EXIF orientation is
// not applied (Pillow's Image.open and torchvision's decode_jpeg default do not either).
import CTurboJPEG

/// TurboJPEG's message for the last error on `handle`.
private func tjMessage(_ handle: tjhandle?) -> String {
    guard let s = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
    return String(cString: s)
}

/// True when the JPEG has an APP14 "Adobe" segment: Adobe writes CMYK/YCCK inverted (255 = no ink).
func jpegHasAdobeMarker(_ bytes: [UInt8]) -> Bool {
    var i = 2  // after SOI
    while i + 4 <= bytes.count {
        guard bytes[i] == 0xFF else { return false }
        let marker = bytes[i + 1]
        if marker == 0xFF { i += 1; continue }  // fill byte
        if marker == 0xDA || marker == 0xD9 { return false }  // start of scan / end: headers are over
        let len = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        if marker == 0xEE, len >= 7, i + 9 <= bytes.count, Array(bytes[(i + 4)..<(i + 9)]) == Array("Adobe".utf8) {
            return true
        }
        i += 2 + len
    }
    return false
}

/// CMYK -> RGB with the naive formula R = 255 (1-C)(1-K); `inverted` means the stored value is 255 - ink.
func cmykToRGB(_ cmyk: [UInt8], pixels: Int, inverted: Bool) -> [UInt8] {
    var rgb = [UInt8](repeating: 0, count: pixels * 3)
    cmyk.withUnsafeBufferPointer { src in
        rgb.withUnsafeMutableBufferPointer { dst in
            // The light a channel lets through: the stored value when Adobe-inverted, else 255 - ink.
            @inline(__always) func light(_ v: UInt8) -> Int { inverted ? Int(v) : 255 - Int(v) }
            for p in 0..<pixels {
                let k = light(src[4 * p + 3])
                for c in 0..<3 { dst[3 * p + c] = UInt8((light(src[4 * p + c]) * k + 127) / 255) }
            }
        }
    }
    return rgb
}

/// Decodes JPEG bytes (baseline, progressive, greyscale, CMYK, YCCK) to RGB8.
public func decodeJPEG(_ bytes: [UInt8], path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    if bytes.isEmpty { throw IOError(path: path, "empty file, not a JPEG") }
    guard let handle = tjInitDecompress() else { throw IOError(path: path, "cannot start TurboJPEG: \(tjMessage(nil))") }
    defer { tjDestroy(handle) }
    var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = 0, colorspace: Int32 = 0
    let hdr = bytes.withUnsafeBufferPointer {
        tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &w, &h, &subsamp, &colorspace)
    }
    if hdr != 0 { throw IOError(path: path, "JPEG header: \(tjMessage(handle))") }
    let width = Int(w), height = Int(h)
    guard width > 0, height > 0 else {
        throw IOError(path: path, "JPEG header claims an image of \(width)x\(height) pixels")
    }
    guard width * height <= options.maxPixels else {
        throw IOError(path: path, "JPEG header claims \(width)x\(height) = \(width * height) pixels, above the decoder's limit of \(options.maxPixels)")
    }
    let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
    let format = isCMYK ? TJPF_CMYK : TJPF_RGB
    // Warnings (e.g. "premature end of data" on a truncated file) stop the decoder: a partly grey
    // image is still a corrupt input, so refuse it.
    let flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
    var rc: Int32 = 0
    var out = [UInt8](unsafeUninitializedCapacity: width * height * (isCMYK ? 4 : 3)) { dst, count in
        rc = bytes.withUnsafeBufferPointer { src in
            tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, w, 0, h, Int32(format.rawValue), flags)
        }
        count = rc == 0 ? dst.count : 0
    }
    if rc != 0 { throw IOError(path: path, "JPEG decode: \(tjMessage(handle))") }
    if isCMYK { out = cmykToRGB(out, pixels: width * height, inverted: jpegHasAdobeMarker(bytes)) }
    return RGBImage(width: width, height: height, pixels: out)
}

public func decodeJPEG(path: String, options: ImageDecodeOptions = .default) throws -> RGBImage {
    let bytes = try readFileBytes(path)
    return try decodeJPEG(bytes, path: path, options: options)
}

/// Encodes RGB8 to JPEG with 4:2:0 chroma subsampling; `progressive` writes a progressive file.
public func encodeJPEG(_ img: RGBImage, quality: Int = 90, progressive: Bool = false, path: String = "<memory>") throws -> [UInt8] {
    guard img.width > 0, img.height > 0, img.pixels.count == img.width * img.height * 3 else {
        throw IOError(path: path, "cannot encode a \(img.width)x\(img.height) image with \(img.pixels.count) bytes")
    }
    return try tjEncode(img.pixels, width: img.width, height: img.height, pixelFormat: Int32(TJPF_RGB.rawValue),
                        subsamp: Int32(TJSAMP_420.rawValue), quality: quality, progressive: progressive, path: path)
}

/// Encodes 8-bit greyscale (width*height bytes) to a single-channel JPEG.
public func encodeGrayJPEG(_ gray: [UInt8], width: Int, height: Int, quality: Int = 90, progressive: Bool = false,
                           path: String = "<memory>") throws -> [UInt8] {
    guard width > 0, height > 0, gray.count == width * height else {
        throw IOError(path: path, "cannot encode a \(width)x\(height) grey image with \(gray.count) bytes")
    }
    return try tjEncode(gray, width: width, height: height, pixelFormat: Int32(TJPF_GRAY.rawValue),
                        subsamp: Int32(TJSAMP_GRAY.rawValue), quality: quality, progressive: progressive, path: path)
}

private func tjEncode(_ src: [UInt8], width: Int, height: Int, pixelFormat: Int32, subsamp: Int32, quality: Int,
                      progressive: Bool, path: String) throws -> [UInt8] {
    guard (1...100).contains(quality) else { throw IOError(path: path, "JPEG quality \(quality) not in 1...100") }
    guard let handle = tjInitCompress() else { throw IOError(path: path, "cannot start TurboJPEG: \(tjMessage(nil))") }
    defer { tjDestroy(handle) }
    var jpeg: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    let flags: Int32 = progressive ? TJFLAG_PROGRESSIVE : 0
    let rc = src.withUnsafeBufferPointer {
        tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), pixelFormat, &jpeg, &size, subsamp,
                    Int32(quality), flags)
    }
    defer { if let jpeg { tjFree(jpeg) } }
    if rc != 0 { throw IOError(path: path, "JPEG encode: \(tjMessage(handle))") }
    guard let jpeg else { throw IOError(path: path, "JPEG encode produced no data") }
    return Array(UnsafeBufferPointer(start: jpeg, count: Int(size)))
}

public func writeJPEG(_ img: RGBImage, path: String, quality: Int = 90, progressive: Bool = false) throws {
    try writeFileBytes(encodeJPEG(img, quality: quality, progressive: progressive, path: path), path: path)
}
