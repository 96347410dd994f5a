// Pixel semantics against Pillow, and hostile image files: headers that claim huge images,
// oversized ancillary chunks, forged chunk lengths. Fixtures: scripts/golden/png_fixtures.py and
// jpeg_fixtures.py (Fixtures/pillow/<name>.{png,jpg} + <name>.rgb = Pillow's convert("RGB")).
import Foundation
import XCTest
@testable import IFERIO

final class HostileImageTests: XCTestCase {
    let pillowDir = fixturesDir + "/pillow"

    /// Largest per-byte difference; fails on a size mismatch.
    func maxDiff(_ a: [UInt8], _ b: [UInt8], _ name: String) -> Int {
        XCTAssertEqual(a.count, b.count, name)
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func pillowCases(_ ext: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: pillowDir).filter { $0.hasSuffix("." + ext) }.sorted()
    }

    func testPNGMatchesPillowOnEveryColourTypeDepthAndInterlacing() throws {
        let names = try pillowCases("png")
        XCTAssertEqual(names.count, 30, "5 colour types x their bit depths x (plain, interlaced)")
        for name in names {
            let path = pillowDir + "/" + name
            var img = try decodeImage(path: path)
            var want = try readFileBytes(pillowDir + "/" + name.replacingOccurrences(of: ".png", with: ".rgb"))
            XCTAssertEqual(img.width * img.height * 3, want.count, name)
            if name.contains("-d16-i") {
                // 16-bit interlaced with alpha is read premultiplied, so a fully transparent pixel's
                // colour is lost (docs/data.md): compare the others. Transparent = black on black
                // and white on white.
                let white = try decodeImage(path: path, options: ImageDecodeOptions(background: ImageBackground(255, 255, 255)))
                let black = try decodeImage(path: path, options: ImageDecodeOptions(background: ImageBackground(0, 0, 0)))
                let keep = (0..<want.count).filter { !(white.pixels[$0] == 255 && black.pixels[$0] == 0 && img.pixels[$0] == 0) }
                XCTAssertGreaterThan(keep.count, want.count / 2, name)
                img.pixels = keep.map { img.pixels[$0] }
                want = keep.map { want[$0] }
            }
            XCTAssertLessThanOrEqual(maxDiff(img.pixels, want, name), 1, name)
            if name.contains("-d16"), !name.hasPrefix("ct4"), !name.hasPrefix("ct6"), name != "ct2-d16.png" {
                // 16-bit without alpha: exactly the high byte.
                XCTAssertEqual(img.pixels, want, name)
            }
        }
    }

    func testJPEGVariantsMatchPillow() throws {
        let names = try pillowCases("jpg")
        XCTAssertEqual(Set(names), ["baseline-444.jpg", "baseline-422.jpg", "baseline-420.jpg", "progressive-420.jpg", "grey.jpg",
                                    "grey-progressive.jpg", "cmyk.jpg", "exif-orientation6.jpg"])
        for name in names {
            let img = try decodeImage(path: pillowDir + "/" + name)
            let want = try readFileBytes(pillowDir + "/" + name.replacingOccurrences(of: ".jpg", with: ".rgb"))
            // EXIF orientation is not applied: the stored 37 x 23, as Pillow's Image.open gives it.
            XCTAssertEqual([img.width, img.height], [37, 23], name)
            XCTAssertLessThanOrEqual(maxDiff(img.pixels, want, name), 1, name)
        }
    }

    func testSixteenBitIsScaledWithoutGammaAndAlphaIsDroppedOrComposited() throws {
        // rgb16: every sample v * 257 -> exactly v (no linear-light brightening).
        let rgb16 = try decodeImage(path: fixturesDir + "/rgb16.png")
        XCTAssertEqual(rgb16.pixels, try readFileBytes(fixturesDir + "/rgb16.rgb"))
        // Grey + alpha 0 / 255: alpha dropped keeps the grey value; on a white background alpha 0 is white.
        let bytes = try readFileBytes(fixturesDir + "/greyalpha.png")
        let dropped = try decodeImage(bytes: bytes, path: "greyalpha.png")
        XCTAssertEqual(dropped.pixels, try readFileBytes(fixturesDir + "/greyalpha.rgb"))
        let white = try decodeImage(bytes: bytes, path: "greyalpha.png", options: ImageDecodeOptions(background: ImageBackground(255, 255, 255)))
        // Pixel (0, 0) has alpha 0 (the fixture's (x + y) % 3 == 0 rule), pixel (1, 0) alpha 255.
        XCTAssertEqual(Array(white.pixels[0..<3]), [255, 255, 255])
        XCTAssertEqual(Array(white.pixels[3..<6]), Array(dropped.pixels[3..<6]))
    }

    // MARK: hostile headers

    /// A PNG chunk with a correct CRC.
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for b in body { crc ^= UInt32(b); for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) } }
        crc ^= 0xFFFF_FFFF
        return be32(data.count) + body + be32(Int(crc))
    }
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// About 60 bytes: signature, IHDR claiming w x h RGB8, a tiny IDAT, IEND.
    func forgedPNG(_ w: Int, _ h: Int) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(w) + be32(h) + [8, 2, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]) + chunk("IEND", [])
    }

    /// A real 16x16 baseline JPEG whose SOF0 claims w x h, cut a few bytes into the scan.
    func forgedJPEG(_ w: Int, _ h: Int) throws -> [UInt8] {
        var img = [UInt8](repeating: 90, count: 16 * 16 * 3)
        for i in stride(from: 0, to: img.count, by: 7) { img[i] = 200 }
        var bytes = try encodeJPEG(RGBImage(width: 16, height: 16, pixels: img), quality: 90)
        var i = 2
        while i + 9 < bytes.count, !(bytes[i] == 0xFF && bytes[i + 1] == 0xC0) { i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])) }
        bytes[i + 5] = UInt8(h >> 8); bytes[i + 6] = UInt8(h & 0xFF); bytes[i + 7] = UInt8(w >> 8); bytes[i + 8] = UInt8(w & 0xFF)
        var sos = i
        while sos + 1 < bytes.count, !(bytes[sos] == 0xFF && bytes[sos + 1] == 0xDA) { sos += 1 }
        return Array(bytes.prefix(sos + 20))
    }

    func peakRSSMiB() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_maxrss / 1024
    }

    func testTinyFilesClaimingHugeImagesFailFastWithoutMemory() throws {
        let before = peakRSSMiB()
        let t0 = Date()
        let cases: [(String, [UInt8], String)] = [
            ("png-over-budget.png", forgedPNG(100_000, 100_000), "above the decoder's limit"),
            ("png-within-budget.png", forgedPNG(8000, 8000), "cannot hold them"),
            ("jpeg-over-budget.jpg", try forgedJPEG(60_000, 60_000), "above the decoder's limit"),
            ("jpeg-within-budget.jpg", try forgedJPEG(8000, 8000), "JPEG decode"),
        ]
        for (name, bytes, message) in cases {
            XCTAssertLessThan(bytes.count, 800, name)
            XCTAssertThrowsError(try decodeImage(bytes: bytes, path: "/in/" + name), name) { e in
                XCTAssertTrue("\(e)".contains("/in/" + name) && "\(e)".contains(message), "\(name): \(e)")
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.0)
        // A peak that rose by 190 MB would mean an 8000 x 8000 RGB buffer was touched.
        XCTAssertLessThan(peakRSSMiB() - before, 64, "decoding forged headers raised the peak RSS")
    }

    func testAncillaryChunksAreSkippedAndForgedLengthsRejected() throws {
        let good = try encodePNG(RGBImage(width: 4, height: 3, pixels: [UInt8](repeating: 77, count: 36)))
        // A 16 MB zTXt-like ancillary chunk after IHDR (33 bytes in): skipped without being parsed.
        let big = Array(good.prefix(33)) + chunk("zTXt", Array("Comment".utf8) + [0, 0] + [UInt8](repeating: 0x5A, count: 16 << 20))
            + Array(good.dropFirst(33))
        let t0 = Date()
        let img = try decodePNG(big, path: "big-text.png")
        XCTAssertEqual(img.pixels, [UInt8](repeating: 77, count: 36))
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.0)
        // A chunk whose length runs past the end of the file.
        let forged = Array(good.prefix(33)) + be32(0x7FFF_FFF0) + Array("tEXt".utf8) + [1, 2, 3]
        XCTAssertThrowsError(try decodePNG(forged, path: "forged.png")) { e in
            XCTAssertTrue("\(e)".contains("forged.png") && "\(e)".contains("claims"), "\(e)")
        }
        // An unknown critical chunk may change pixels: refused.
        let critical = Array(good.prefix(33)) + chunk("ZZZZ", [1]) + Array(good.dropFirst(33))
        XCTAssertThrowsError(try decodePNG(critical, path: "crit.png")) { e in XCTAssertTrue("\(e)".contains("critical"), "\(e)") }
    }
}
