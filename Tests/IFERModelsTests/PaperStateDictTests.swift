import Foundation
import XCTest
@testable import IFERModels

/// The rows of reference/paper-state-dict.md: `key pattern` | [shape] | count, braces expanded.
struct PaperStateDict {
    /// key -> shape, per section heading ("5.2", "5.3", "5.4", "5.5", ...).
    var rows: [(section: String, key: String, shape: [Int])] = []
    var text = ""

    /// Finds the reference file next to the repository (../shared/reference) or under /work/shared.
    static func load() -> PaperStateDict? {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [repo.deletingLastPathComponent().appendingPathComponent("shared/reference/paper-state-dict.md").path,
                          repo.appendingPathComponent("../../shared/reference/paper-state-dict.md").path,
                          "/work/shared/reference/paper-state-dict.md"]
        for c in candidates {
            if let t = try? String(contentsOfFile: c, encoding: .utf8) { return parse(t) }
        }
        return nil
    }

    static func parse(_ text: String) -> PaperStateDict {
        var p = PaperStateDict()
        p.text = text
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### ") { section = String(line.dropFirst(4).prefix(3)); continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].hasPrefix("`"), cells[1].hasPrefix("[") else { continue }
            let pattern = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let dims = cells[1].dropFirst().prefix { $0 != "]" }
            let shape = dims.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            for k in expand(pattern) { p.rows.append((section, k, shape)) }
        }
        return p
    }

    /// Expands `a.{0..3}.b`, `{0,2,..,10}`, `{q,k}` (several groups allowed).
    static func expand(_ pattern: String) -> [String] {
        guard let open = pattern.firstIndex(of: "{"), let close = pattern[open...].firstIndex(of: "}") else { return [pattern] }
        let head = String(pattern[..<open]), tail = String(pattern[pattern.index(after: close)...])
        let items = pattern[pattern.index(after: open)..<close].split(separator: ",").map(String.init)
        var values: [String] = []
        if items.count == 1, let r = items[0].range(of: ".."), let a = Int(items[0][..<r.lowerBound]), let b = Int(items[0][r.upperBound...]) {
            values = (a...b).map(String.init)
        } else if items.count == 4, items[2] == "..", let a = Int(items[0]), let b = Int(items[1]), let e = Int(items[3]) {
            values = Array(stride(from: a, through: e, by: b - a)).map(String.init)
        } else {
            values = items
        }
        return values.flatMap { v in expand(head + v + tail) }
    }

    /// Parameter count printed in section 1 for a module row starting with `label`.
    func count(_ label: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("| " + label) {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count > 1, let n = Int(cells[1].split(separator: " ")[0].replacingOccurrences(of: ",", with: "")) { return n }
        }
        return nil
    }
}

final class PaperStateDictTests: XCTestCase {
    var paper: ModelConfig!
    var ref: PaperStateDict!

    override func setUpWithError() throws {
        guard let r = PaperStateDict.load() else { throw XCTSkip("paper-state-dict.md not found next to the repository") }
        ref = r
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        paper = try ModelConfig(file: root.appendingPathComponent("configs/paper/asit-ffhq.yaml").path)
    }

    private func compare(_ ours: [(String, [Int])], _ theirs: [(String, [Int])], _ what: String) {
        let a = Dictionary(ours, uniquingKeysWith: { x, _ in x }), b = Dictionary(theirs, uniquingKeysWith: { x, _ in x })
        XCTAssertEqual(ours.count, a.count, "\(what): duplicate keys")
        XCTAssertFalse(b.isEmpty, "\(what): no reference rows parsed")
        for k in Set(b.keys).subtracting(a.keys).sorted() { XCTFail("\(what): missing \(k) \(b[k]!)") }
        for k in Set(a.keys).subtracting(b.keys).sorted() { XCTFail("\(what): unexpected \(k) \(a[k]!)") }
        for (k, s) in a where b[k] != nil && b[k]! != s { XCTFail("\(what): \(k) has shape \(s), reference \(b[k]!)") }
    }

    func testGeneratorMatchesDecoderKeys() {
        let g = Generator(paper.generator)
        compare(g.namedParameters(prefix: "decoder.").map { ($0.0, $0.1.shape) },
                ref.rows.filter { $0.section == "5.2" }.map { ($0.key, $0.shape) }, "decoder parameters")
        compare(g.namedBuffers(prefix: "decoder.").map { ($0.0, $0.1.shape) },
                ref.rows.filter { $0.section == "5.5" && $0.key.hasPrefix("decoder.") }.map { ($0.key, $0.shape) }, "decoder buffers")
        XCTAssertEqual(g.parameterCount, ref.count("generator / decoder"))
        XCTAssertEqual(g.parameterCount, 30_034_338)
        XCTAssertEqual(g.style.namedParameters().reduce(0) { $0 + $1.1.count }, 2_101_248)
    }

    func testDiscriminatorMatchesModelQAndK() {
        let d = InversionDiscriminator(paper.discriminator)
        let q = ref.rows.filter { $0.section == "5.3" }.map { ($0.key, $0.shape) }
        compare(d.namedParameters().map { ($0.0, $0.1.shape) }, q, "model_q parameters")
        let kParams = q.map { ($0.0.replacingOccurrences(of: "model_q.", with: "model_k."), $0.1) }
        let kBuffers = ref.rows.filter { $0.section == "5.5" && $0.key.hasPrefix("model_") }.map { ($0.key, $0.shape) }
        compare(d.namedBuffers().map { ($0.0, $0.1.shape) }, kParams + kBuffers, "discriminator buffers")
        XCTAssertEqual(d.modelQ.parameterCount, 22_370_048)
        XCTAssertEqual(d.parameterCount, 22_370_048, "model_k must hold no trainable parameters")
        XCTAssertTrue(d.modelK.buffers.allSatisfy { $0.1.kind == .buffer && !$0.1.requiresGrad })
    }

    func testIferHeadMatches() throws {
        let cfg = try ModelConfig(file: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/paper/ifer-rafdb.yaml").path)
        let h = IferHead(cfg.iferHead)
        compare(h.namedParameters().map { ($0.0, $0.1.shape) }, ref.rows.filter { $0.section == "5.4" }.map { ($0.key, $0.shape) }, "ifer head")
        XCTAssertEqual(h.parameterCount, 2_888_199)
        XCTAssertTrue(h.namedBuffers().isEmpty)
    }

    func testMACsAgreeWithMeasuredCounts() {
        // paper-state-dict.md §2 measured 45.373 G MACs (generator) and 46.982 G (one branch).
        let g = Generator(paper.generator), d = DiscriminatorBranch(paper.discriminator)
        XCTAssertEqual(Double(g.macs) / 1e9, 45.373, accuracy: 0.5)
        XCTAssertEqual(Double(d.macs) / 1e9, 46.982, accuracy: 0.5)
        XCTAssertEqual(Double(IferHead(IferHeadConfig()).macs()) / 1e6, 42, accuracy: 1.5)
    }
}
