// Hostile YAML: each refused with ConfigError.syntax naming the file, quickly and in little memory.
import Foundation
import XCTest
@testable import IFERTrain

final class YAMLLimitsTests: XCTestCase {
    func assertRefused(_ text: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let t0 = Date()
        XCTAssertThrowsError(try ConfigValue.parse(text, source: "hostile.yaml"), file: file, line: line) { e in
            guard let ce = e as? ConfigError, ce.path.isEmpty else { return XCTFail("not a syntax error: \(e)", file: file, line: line) }
            XCTAssertTrue(ce.message.hasPrefix("hostile.yaml: "), ce.message, file: file, line: line)
            XCTAssertTrue(ce.message.contains(message), ce.message, file: file, line: line)
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.0, file: file, line: line)
    }

    func testBillionLaughsIsRefusedBeforeExpansion() {
        // Nine levels of ten aliases each: 10^9 nodes from a few hundred bytes.
        var doc = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (prev, name) in zip(names, names.dropFirst()) {
            doc += "\(name): &\(name) [" + Array(repeating: "*\(prev)", count: 10).joined(separator: ", ") + "]\n"
        }
        XCTAssertLessThan(doc.utf8.count, 500)
        assertRefused(doc, "expands to more than")
    }

    func testDeepNestingIsRefused() {
        assertRefused(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), "nested deeper than 64")
        assertRefused(String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000), "nested deeper than 64")
    }

    func testHugeDocumentIsRefusedBeforeParsing() {
        assertRefused("a: " + String(repeating: "x", count: 100 << 20), "above the 1048576-byte limit")
    }

    func testDuplicateKeysAreRefused() {
        assertRefused("train:\n  lr: 0.1\n  lr: 0.2\n", "duplicate key 'lr' (first on line 2)")
        assertRefused("a: 1\nb: 2\na: 3\n", "duplicate key 'a'")
        // The same key in two different mappings is fine; so are modest aliases.
        XCTAssertNoThrow(try ConfigValue.parse("a: {lr: 1}\nb: {lr: 2}\nc: &c [1, 2]\nd: *c\n", source: "ok.yaml"))
        XCTAssertEqual(try ConfigValue.parse("c: &c [1, 2]\nd: *c\n", source: "ok.yaml")["d"], .list([.scalar("1"), .scalar("2")]))
    }

    func testUndefinedAliasAndSyntaxErrorsNameTheLine() {
        assertRefused("a: 1\nb: *nope\n", "line 2")
        assertRefused("a: [1, 2\nb: 3\n", "line")
    }
}
