import XCTest
@testable import IFERData

/// Anti-aliased resampling against Pillow's `Image.resize(size, BILINEAR, box=...)` (Pillow 13,
/// values produced by the snippet in docs/data.md), and the crop rules.
final class ResampleTests: XCTestCase {
    /// The 12x10 test image: value ((x*29 + y*13 + c*71) * 7) mod 256.
    static let source: [UInt8] = {
        var a = [UInt8](repeating: 0, count: 12 * 10 * 3)
        for y in 0..<10 { for x in 0..<12 { for c in 0..<3 { a[(y * 12 + x) * 3 + c] = UInt8(((x * 29 + y * 13 + c * 71) * 7) % 256) } } }
        return a
    }()

    static let pillow: [((Double, Double, Double, Double), Int, Int, [UInt8])] = [
        ((0.0, 0.0, 12.0, 10.0), 4, 4, [122, 128, 123, 132, 120, 129, 133, 132, 140, 125, 118, 129, 116, 119, 134, 119, 133, 130, 131, 138, 125, 143, 134, 122, 128, 121, 118, 129, 121, 132, 128, 130, 125, 122, 107, 127, 146, 131, 130, 112, 133, 127, 133, 138, 124, 140, 125, 114]),
        ((1.0, 2.0, 11.0, 9.0), 5, 4, [128, 117, 129, 117, 115, 144, 124, 145, 142, 113, 142, 131, 148, 148, 137, 98, 133, 124, 134, 142, 127, 123, 127, 112, 151, 136, 121, 141, 126, 111, 142, 127, 131, 127, 112, 120, 130, 121, 156, 125, 129, 114, 115, 100, 135, 124, 109, 130, 110, 139, 137, 125, 137, 126, 118, 139, 124, 153, 138, 127]),
        ((2.5, 0.5, 10.0, 8.0), 6, 6, [172, 157, 142, 113, 98, 83, 134, 119, 139, 138, 123, 195, 163, 148, 133, 104, 89, 74, 90, 75, 163, 159, 146, 172, 136, 134, 133, 109, 94, 113, 81, 169, 154, 152, 178, 163, 125, 135, 131, 98, 97, 87, 75, 182, 167, 169, 154, 139, 141, 137, 122, 103, 93, 78, 96, 143, 128, 173, 158, 143, 129, 114, 99, 124, 109, 94, 149, 134, 119, 164, 149, 134, 115, 100, 85, 130, 115, 112, 120, 105, 193, 168, 153, 138, 106, 91, 76, 121, 106, 103, 136, 121, 180, 145, 143, 133, 106, 93, 118, 86, 145, 130, 127, 186, 171, 149, 134, 124]),
        ((3.0, 3.0, 6.0, 6.0), 7, 5, [111, 96, 117, 95, 80, 109, 95, 80, 87, 94, 79, 64, 71, 144, 129, 49, 209, 194, 84, 216, 201, 136, 150, 135, 142, 127, 112, 120, 105, 90, 97, 82, 67, 74, 125, 110, 52, 169, 154, 73, 168, 153, 147, 205, 190, 197, 182, 167, 175, 160, 145, 152, 137, 122, 129, 114, 99, 107, 92, 77, 84, 69, 54, 92, 106, 91, 120, 105, 90, 164, 149, 134, 207, 192, 177, 184, 169, 154, 162, 147, 132, 139, 124, 109, 73, 58, 43, 80, 65, 50, 145, 130, 115, 210, 195, 180, 187, 172, 179, 165, 150, 179, 157, 142, 163]),
    ]

    func testMatchesPillowBilinearWithin1() {
        for (box, w, h, want) in Self.pillow {
            let got = Self.source.withUnsafeBufferPointer {
                Resample.resampleUInt8($0.baseAddress!, width: 12, height: 10, box: box, outWidth: w, outHeight: h)
            }
            XCTAssertEqual(got.count, want.count)
            let worst = zip(got, want).map { abs(Int($0) - Int($1)) }.max() ?? 0
            // Pillow rounds its intermediate row pass to uint8 (fixed point); we keep floats.
            XCTAssertLessThanOrEqual(worst, 1, "box \(box) -> \(w)x\(h)")
        }
    }

    func testSameSizeIsIdentityAndConstantStaysConstant() {
        let img = Fixtures.pattern(width: 9, height: 7, seed: 3).pixels
        let same = img.withUnsafeBufferPointer { Resample.resampleUInt8($0.baseAddress!, width: 9, height: 7, box: (0, 0, 9, 7), outWidth: 9, outHeight: 7) }
        XCTAssertEqual(same, img)
        let flat = [UInt8](repeating: 77, count: 40 * 30 * 3)
        let small = flat.withUnsafeBufferPointer { Resample.resampleUInt8($0.baseAddress!, width: 40, height: 30, box: (0, 0, 40, 30), outWidth: 7, outHeight: 5) }
        XCTAssertTrue(small.allSatisfy { $0 == 77 })
    }

    func testDownscalingAveragesInsteadOfAliasing() {
        // A 1-pixel checkerboard reduced 4x must come out mid-grey, not black or white.
        var a = [UInt8](repeating: 0, count: 64 * 64 * 3)
        for y in 0..<64 { for x in 0..<64 where (x + y) % 2 == 0 { for c in 0..<3 { a[(y * 64 + x) * 3 + c] = 255 } } }
        let out = a.withUnsafeBufferPointer { Resample.resampleUInt8($0.baseAddress!, width: 64, height: 64, box: (0, 0, 64, 64), outWidth: 16, outHeight: 16) }
        for v in out { XCTAssert((120...135).contains(v), "\(v)") }
    }

    func testCropWindows() throws {
        // Whole image: the centred square of the shorter side.
        if case .success(let w) = FaceCrop.window(width: 720, height: 576, box: nil, resolution: 256, allowUpscale: false) {
            XCTAssertEqual(w.0, 72); XCTAssertEqual(w.1, 0); XCTAssertEqual(w.2, 648); XCTAssertEqual(w.3, 576)
        } else { XCTFail() }
        // A face box clamped to the image, then squared.
        if case .success(let w) = FaceCrop.window(width: 100, height: 100, box: FaceBox(x: 60, y: 10, width: 60, height: 50), resolution: 32, allowUpscale: false) {
            // Clamped to 40x50, squared to 40x40 centred vertically.
            XCTAssertEqual(w.0, 60); XCTAssertEqual(w.1, 15); XCTAssertEqual(w.2, 100); XCTAssertEqual(w.3, 55)
        } else { XCTFail() }
        guard case .failure(let outside) = FaceCrop.window(width: 50, height: 50, box: FaceBox(x: 60, y: 0, width: 10, height: 10), resolution: 8, allowUpscale: false) else { return XCTFail() }
        XCTAssertTrue(outside.message.contains("outside"))
        guard case .failure(let small) = FaceCrop.window(width: 100, height: 30, box: nil, resolution: 32, allowUpscale: false) else { return XCTFail() }
        XCTAssertTrue(small.message.contains("smaller than the target 32x32"), small.message)
        guard case .success = FaceCrop.window(width: 100, height: 30, box: nil, resolution: 32, allowUpscale: true) else { return XCTFail() }
    }
}
