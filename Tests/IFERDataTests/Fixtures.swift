import Foundation
import IFERIO
@_exported import IFERTestSupport
@testable import IFERData

/// Small hand-made dataset layouts (and broken files) for the layout and shard tests.
enum Fixtures {
    /// A smooth, seed-dependent RGB pattern (so resampling and crops have structure to keep).
    static func pattern(width: Int, height: Int, seed: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                px[i] = UInt8((x * 255 / max(1, width - 1) + seed * 37) % 256)
                px[i + 1] = UInt8((y * 255 / max(1, height - 1) + seed * 11) % 256)
                px[i + 2] = UInt8(((x + y) * 4 + seed * 53) % 256)
            }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }

    static func write(_ bytes: [UInt8], _ path: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    static func png(_ path: String, size: Int = 48, width: Int? = nil, seed: Int = 0) throws {
        write(try encodePNG(pattern(width: width ?? size, height: size, seed: seed)), path)
    }

    static func jpeg(_ path: String, size: Int = 48, width: Int? = nil, seed: Int = 0) throws {
        write(try encodeJPEG(pattern(width: width ?? size, height: size, seed: seed), quality: 95), path)
    }

    static func text(_ s: String, _ path: String) { write(Array(s.utf8), path) }

    /// The broken files the shard tests mix in, named by what is wrong, with a fragment of the
    /// reason the manifest must give: zero bytes, truncated, not an image, a JPEG whose entropy
    /// data is garbage, and an image smaller than the target.
    static func badFiles(dir: String, prefix: String = "", ext: String, target: Int) throws -> [String: String] {
        let img = pattern(width: 48, height: 48, seed: 9)
        let good = ext == "png" ? try encodePNG(img) : try encodeJPEG(img, quality: 90)
        write([], dir + "/\(prefix)zero." + ext)
        write(Array(good.prefix(good.count / 3)), dir + "/\(prefix)truncated." + ext)
        write(Array("this is not an image\n".utf8), dir + "/\(prefix)text." + ext)
        // Keep the JPEG/PNG signature, destroy everything after the first 4 bytes.
        var broken = Array(good.prefix(4))
        for i in 0..<600 { broken.append(UInt8(truncatingIfNeeded: i &* 131 &+ 7)) }
        write(broken, dir + "/\(prefix)garbled." + ext)
        let small = pattern(width: target / 2, height: target / 2, seed: 1)
        write(ext == "png" ? try encodePNG(small) : try encodeJPEG(small), dir + "/\(prefix)small." + ext)
        return ["\(prefix)zero": "empty", "\(prefix)truncated": "", "\(prefix)text": "not a PNG or JPEG",
                "\(prefix)garbled": "", "\(prefix)small": "smaller than the target"]
    }
}
