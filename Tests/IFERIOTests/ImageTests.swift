import Foundation
import XCTest
@testable import IFERIO

final class ImageTests: XCTestCase {
    /// A smooth gradient with a little texture (JPEG-friendly), w x h RGB.
    func gradient(_ w: Int, _ h: Int) -> RGBImage {
        var px = [UInt8]()
        for y in 0..<h { for x in 0..<w {
            px += [UInt8(x * 255 / max(1, w - 1)), UInt8(y * 255 / max(1, h - 1)), UInt8((x + y) * 2 % 256)]
        } }
        return RGBImage(width: w, height: h, pixels: px)
    }

    func meanAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Double {
        zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.count)
    }

    func fixture(_ name: String) throws -> [UInt8] { try readFileBytes(fixturesDir + "/" + name) }

    // MARK: PNG

    func testPNGRoundTripIsBitExact() throws {
        var px = [UInt8]()
        var x: UInt32 = 7
        for _ in 0..<(13 * 11 * 3) { x = x &* 1_664_525 &+ 1_013_904_223; px.append(UInt8(truncatingIfNeeded: x >> 24)) }
        let img = RGBImage(width: 13, height: 11, pixels: px)
        let bytes = try encodePNG(img)
        XCTAssertEqual(sniffImageFormat(bytes), .png)
        XCTAssertEqual(try decodePNG(bytes, path: "mem.png"), img)
        let path = try makeTempDir(self) + "/rt.png"
        try writePNG(img, path: path)
        XCTAssertEqual(try decodeImage(path: path), img)
    }

    func testPNGColourTypesDecodeToExpectedRGB() throws {
        let cases: [(String, Int, Int)] = [("palette4", 8, 6), ("grey8", 7, 5), ("grey2", 9, 3), ("greyalpha", 6, 4),
                                           ("rgb16", 5, 5), ("interlaced", 9, 7)]
        for (name, w, h) in cases {
            let img = try decodeImage(bytes: try fixture(name + ".png"), path: name + ".png")
            XCTAssertEqual(img.width, w, name)
            XCTAssertEqual(img.height, h, name)
            XCTAssertEqual(img.pixels, try fixture(name + ".rgb"), name)
        }
    }

    // MARK: JPEG

    func testJPEGBaselineRoundTrip() throws {
        let img = gradient(48, 40)
        let bytes = try encodeJPEG(img, quality: 95)
        XCTAssertTrue(bytes.starts(with: [0xFF, 0xD8, 0xFF]))
        XCTAssertTrue(containsMarker(bytes, 0xC0), "baseline SOF0 expected")
        let back = try decodeImage(bytes: bytes, path: "b.jpg")
        XCTAssertEqual(back.width, 48)
        XCTAssertEqual(back.height, 40)
        XCTAssertLessThan(meanAbsDiff(back.pixels, img.pixels), 3.0)
    }

    func testJPEGProgressiveRoundTrip() throws {
        let img = gradient(33, 17)  // sizes not multiples of the MCU
        let bytes = try encodeJPEG(img, quality: 90, progressive: true)
        XCTAssertTrue(containsMarker(bytes, 0xC2), "progressive SOF2 expected")
        let back = try decodeJPEG(bytes, path: "p.jpg")
        XCTAssertEqual(back.width, 33)
        XCTAssertLessThan(meanAbsDiff(back.pixels, img.pixels), 4.0)
        let path = try makeTempDir(self) + "/p.jpg"
        try writeJPEG(img, path: path, progressive: true)
        XCTAssertEqual(try decodeImage(path: path), back)
    }

    func testJPEGGreyscaleDecodesToEqualChannels() throws {
        let grey = (0..<(20 * 12)).map { UInt8($0 % 20 * 12) }
        let bytes = try encodeGrayJPEG(grey, width: 20, height: 12, quality: 95)
        let img = try decodeImage(bytes: bytes, path: "g.jpg")
        XCTAssertEqual(img.pixels.count, 20 * 12 * 3)
        for p in 0..<(20 * 12) {
            XCTAssertEqual(img.pixels[3 * p], img.pixels[3 * p + 1])
            XCTAssertEqual(img.pixels[3 * p], img.pixels[3 * p + 2])
        }
        let g = (0..<(20 * 12)).map { img.pixels[3 * $0] }
        XCTAssertLessThan(meanAbsDiff(g, grey), 4.0)
    }

    func testJPEGCMYKFromPillowDecodesToRGB() throws {
        let bytes = try fixture("cmyk.jpg")
        XCTAssertTrue(jpegHasAdobeMarker(bytes))
        let img = try decodeImage(bytes: bytes, path: "cmyk.jpg")
        XCTAssertEqual(img.width, 16)
        func pixel(_ x: Int, _ y: Int) -> [Int] { (0..<3).map { Int(img.pixels[(y * 16 + x) * 3 + $0]) } }
        let expected: [((Int, Int), [Int])] = [((3, 3), [255, 255, 255]), ((12, 3), [0, 255, 255]),
                                               ((3, 12), [255, 0, 0]), ((12, 12), [127, 127, 127])]
        for ((x, y), want) in expected {
            let got = pixel(x, y)
            for c in 0..<3 { XCTAssertLessThanOrEqual(abs(got[c] - want[c]), 4, "(\(x),\(y)) got \(got) want \(want)") }
        }
    }

    func testCMYKConversionWithAndWithoutAdobeInversion() {
        // Plain CMYK: 0 = no ink. Adobe: 255 = no ink.
        XCTAssertEqual(cmykToRGB([0, 0, 0, 0, 255, 0, 0, 0], pixels: 2, inverted: false), [255, 255, 255, 0, 255, 255])
        XCTAssertEqual(cmykToRGB([255, 255, 255, 255, 0, 255, 255, 255], pixels: 2, inverted: true), [255, 255, 255, 0, 255, 255])
        XCTAssertEqual(cmykToRGB([0, 0, 0, 128], pixels: 1, inverted: false), [127, 127, 127])
    }

    // MARK: bad input

    func testBadInputThrowsNamingThePath() throws {
        let png = try encodePNG(gradient(16, 16))
        let jpg = try encodeJPEG(gradient(64, 64), quality: 90)
        let cases: [(String, [UInt8])] = [
            ("zero.png", []),
            ("garbage.png", Array("this is not an image at all".utf8)),
            ("trunc.png", Array(png.prefix(png.count / 2))),
            ("header-only.png", Array(png.prefix(8))),
            ("trunc.jpg", Array(jpg.prefix(jpg.count / 2))),
            ("soi-only.jpg", [0xFF, 0xD8, 0xFF]),
            ("corrupt.png", Array(png.prefix(40)) + [UInt8](repeating: 0x41, count: png.count - 40)),
        ]
        for (name, bytes) in cases {
            let path = "/data/faces/" + name
            XCTAssertThrowsError(try decodeImage(bytes: bytes, path: path), name) { e in
                XCTAssertTrue(e is IOError, name)
                XCTAssertTrue("\(e)".contains(path), "\(name): \(e)")
            }
        }
        // Decoding a file that does not exist names it too.
        XCTAssertThrowsError(try decodeImage(path: "/nonexistent/x.png")) { e in XCTAssertTrue("\(e)".contains("/nonexistent/x.png")) }
        // Zero-byte file on disk.
        let empty = try makeTempDir(self) + "/empty.jpg"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertThrowsError(try decodeImage(path: empty)) { e in XCTAssertTrue("\(e)".contains("empty"), "\(e)") }
    }

    func containsMarker(_ bytes: [UInt8], _ m: UInt8) -> Bool {
        for i in 0..<(bytes.count - 1) where bytes[i] == 0xFF && bytes[i + 1] == m { return true }
        return false
    }
}
