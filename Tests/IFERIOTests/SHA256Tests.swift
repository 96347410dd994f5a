import Foundation
import XCTest
@testable import IFERIO

final class SHA256Tests: XCTestCase {
    // FIPS 180-4 / NIST example vectors.
    func testFIPSVectors() {
        XCTAssertEqual(SHA256.hexHash(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexHash([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexHash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hexHash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hexHash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testStreamingInOddPiecesMatchesOneShot() {
        var bytes = [UInt8]()
        var x: UInt32 = 12345
        for _ in 0..<10_007 { x = x &* 1_103_515_245 &+ 12345; bytes.append(UInt8(truncatingIfNeeded: x >> 16)) }
        let whole = SHA256.hexHash(bytes)
        // Every padding boundary: lengths 55, 56, 63, 64, 65 handled via prefixes.
        for n in [55, 56, 57, 63, 64, 65, 119, 120, 128] {
            var s = SHA256()
            s.update(bytes.prefix(n))
            XCTAssertEqual(SHA256.hex(s.finalize()), SHA256.hexHash(Array(bytes.prefix(n))))
        }
        for piece in [1, 3, 63, 64, 65, 1000] {
            var s = SHA256()
            var i = 0
            while i < bytes.count { let j = min(bytes.count, i + piece); s.update(bytes[i..<j]); i = j }
            XCTAssertEqual(SHA256.hex(s.finalize()), whole, "piece \(piece)")
        }
    }

    func testFileHashInBlocks() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/big.bin"
        // 1.25 MB: inside one default 4 MB read block, and across 64 KB / 1 MB blocks (the reader
        // thread refills both buffers several times), and a whole number of 64 KB blocks.
        let bytes = (0..<(5 << 18)).map { UInt8(truncatingIfNeeded: $0 &* 31 >> 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hexHash(file: path), SHA256.hexHash(bytes))
        XCTAssertEqual(try SHA256.hexHash(file: path, blockBytes: 1 << 20), SHA256.hexHash(bytes))
        XCTAssertEqual(try SHA256.hexHash(file: path, blockBytes: 1 << 16), SHA256.hexHash(bytes))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.bin"))
        XCTAssertEqual(try SHA256.hexHash(file: dir + "/empty.bin"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertThrowsError(try SHA256.hexHash(file: dir + "/nope")) { e in XCTAssertTrue("\(e)".contains(dir + "/nope")) }
    }
}
