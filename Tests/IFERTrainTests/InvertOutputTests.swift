// `ifer invert` output safety: never over its input or checkpoint, the format follows the name.
import Foundation
import IFERTestSupport
import XCTest
@testable import IFERTrain

extension InvertTests {
    func testInvertRefusesItsInputAndUnknownNamesAndWritesRealJPEG() throws {
        let dir = NSTemporaryDirectory() + "ifer-invert-out-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ckpt = try checkpoint(dir)
        var pixels = [UInt8](repeating: 0, count: 40 * 40 * 3)
        for i in 0..<pixels.count { pixels[i] = UInt8((i * 13) % 256) }
        let input = dir + "/face.png"
        try writePNG(RGBImage(width: 40, height: 40, pixels: pixels), path: input)
        let original = try readFileBytes(input)

        // The input itself, also through another spelling of the same path.
        for target in [input, dir + "/./face.png"] {
            let same = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, input, target])
            XCTAssertNotEqual(same.status, 0)
            XCTAssertTrue(same.all.contains("refusing to overwrite"), same.all)
            XCTAssertEqual(try readFileBytes(input), original, "the input was changed")
        }
        let ckptBytes = try readFileBytes(ckpt)
        let overCkpt = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, input, ckpt])
        XCTAssertNotEqual(overCkpt.status, 0)
        XCTAssertEqual(try readFileBytes(ckpt), ckptBytes)

        let txt = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, input, dir + "/out.txt"])
        XCTAssertNotEqual(txt.status, 0)
        XCTAssertTrue(txt.all.contains(".png, .jpg or .jpeg"), txt.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out.txt"))

        let jpg = try IferProcess.run(ranks: 0, ["invert", "--checkpoint", ckpt, input, dir + "/out.jpg"])
        XCTAssertEqual(jpg.status, 0, jpg.all)
        let bytes = try readFileBytes(dir + "/out.jpg")
        XCTAssertEqual(sniffImageFormat(bytes), .jpeg)
        XCTAssertEqual(try decodeImage(bytes: bytes, path: "out.jpg").width, 32)
    }
}
