import Foundation
import XCTest
import IFERLayers
@testable import IFERModels

/// The ASIT encoder against the PyTorch reference (scripts/reference/encoder.py), the authors'
/// parameter table (paper-state-dict.md), and its config checks.
final class EncoderTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/encoder")

    // MARK: deterministic values (same integer hash as det_values / det_param in encoder.py)

    static func detValues(_ n: Int, stream: UInt64) -> [Float] {
        (0..<n).map { i in
            var z = (UInt64(i) &+ stream &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 30)) &* 0x94D0_49BB_1331_11EB
            z = z ^ (z >> 31)
            return Float(Double(z >> 40) / Double(1 << 23) - 1)
        }
    }

    static func detParam(_ name: String, _ t: Tensor, k: Int) {
        let u = detValues(t.count, stream: UInt64(1000 + k)).map(Double.init)
        let leaf = name.split(separator: ".").last.map(String.init) ?? name
        let fanIn = t.shape.dropFirst().reduce(1, *)
        let v: [Double]
        if name.hasSuffix("alpha") { v = u.map { _ in 0.5 } }
        else if leaf == "gamma1" || leaf == "gamma2" { v = u.map { 0.5 + 0.2 * $0 } }
        else if leaf == "relative_position_bias_table" { v = u.map { 0.5 * $0 } }
        else if leaf == "bias" { v = u.map { 0.1 * $0 } }
        else if t.rank == 1 { v = u.map { 1.0 + 0.2 * $0 } }
        else if name.hasSuffix("linear.weight") { v = u.map { 1.7 * $0 } }
        else { v = u.map { 1.7 * $0 / Double(fanIn).squareRoot() } }
        for i in 0..<t.count { t.ptr[i] = Float(v[i]) }
    }

    // MARK: fixtures

    struct Fixture: Decodable {
        struct Entry: Decodable { let name: String; let shape: [Int]; let offset: Int }
        let as_coded: Bool
        let batch: Int
        let parameters: [String]
        let arrays: [Entry]
    }

    static func microConfig(asCoded: Bool) throws -> EncoderConfig {
        let text = try String(contentsOf: fixtures.appendingPathComponent("micro_encoder.yaml"), encoding: .utf8)
        var c = try EncoderConfig(yaml: text)
        c.asCoded = asCoded
        return c
    }

    /// Largest |a − b| over the largest |b| of one tensor.
    func relError(_ a: [Float], _ b: [Float]) -> Float {
        var num: Float = 0, den: Float = 0
        for (x, y) in zip(a, b) { num = max(num, abs(x - y)); den = max(den, abs(y)) }
        return den == 0 ? num : num / den
    }

    func checkAgainstReference(_ name: String, asCoded: Bool) throws {
        let meta = try JSONDecoder().decode(Fixture.self,
            from: Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".json")))
        let blob = try Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".bin"))
        let floats: [Float] = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        func array(_ key: String) throws -> (shape: [Int], data: [Float]) {
            guard let e = meta.arrays.first(where: { $0.name == key }) else { throw ConfigError(path: key, "not in fixture") }
            let n = e.shape.reduce(1, *)
            return (e.shape, Array(floats[e.offset..<e.offset + n]))
        }
        XCTAssertEqual(meta.as_coded, asCoded)

        let enc = try ASITEncoder(try Self.microConfig(asCoded: asCoded))
        let params = enc.namedParameters()
        XCTAssertEqual(params.map(\.0), meta.parameters, "parameter names and order match the PyTorch state_dict")
        for (k, name) in meta.parameters.enumerated() {
            guard let t = params.first(where: { $0.0 == name })?.1 else { continue }
            Self.detParam(name, t, k: k)
        }
        let c = enc.config
        let x = try Tensor(Self.detValues(meta.batch * c.inChannels * c.imageSize * c.imageSize, stream: 7),
                           shape: [meta.batch, c.inChannels, c.imageSize, c.imageSize], requiresGrad: true)
        let out = try enc(x)
        let outputs = [("codes", out.codes), ("structure", out.structure)]
            + out.features.enumerated().map { ("f\($0.offset + 1)", $0.element) }
        var loss: Tensor?
        for (i, (key, o)) in outputs.enumerated() {
            let ref = try array(key)
            XCTAssertEqual(o.shape, ref.shape, "\(name) \(key) shape")
            let e = relError(o.array, ref.data)
            XCTAssertLessThan(e, 1e-4, "\(name): \(key) differs from PyTorch (rel err \(e))")
            let seed = try Tensor(Self.detValues(o.count, stream: UInt64(100 + i)), shape: o.shape)
            let term = sumAll(try mul(o, seed))
            loss = try loss.map { try add($0, term) } ?? term
        }
        try XCTUnwrap(loss).backward()
        let gx = try array("grad.input")
        let ex = relError(x.grad?.array ?? [], gx.data)
        XCTAssertLessThan(ex, 1e-4, "\(name): input gradient differs (rel err \(ex))")
        var worst: (Float, String) = (0, "")
        for (pname, t) in params {
            let ref = try array("grad." + pname)
            let ours = t.grad?.array ?? [Float](repeating: 0, count: t.count)
            let e = relError(ours, ref.data)
            if e > worst.0 { worst = (e, pname) }
            XCTAssertLessThan(e, 1e-4, "\(name): gradient of \(pname) differs (rel err \(e))")
        }
        print("\(name): worst parameter-gradient rel err \(worst.0) (\(worst.1)), input \(ex)")
        Autograd.reset()
    }

    func testMicroMatchesReferenceFixed() throws { try checkAgainstReference("micro_fixed", asCoded: false) }
    func testMicroMatchesReferenceAsCoded() throws { try checkAgainstReference("micro_as_coded", asCoded: true) }

    // MARK: paper parameter table

    /// Expands `{0..2}`, `{0,2,..,18}` and `{a,b}` patterns of paper-state-dict.md keys.
    static func expand(_ key: String) -> [String] {
        guard let open = key.firstIndex(of: "{"), let close = key[open...].firstIndex(of: "}") else { return [key] }
        let body = String(key[key.index(after: open)..<close])
        var values: [String]
        if body.contains(",..,") {
            let p = body.components(separatedBy: ",").compactMap { Int($0) }
            values = stride(from: p[0], through: p[p.count - 1], by: p[1] - p[0]).map(String.init)
        } else if body.contains("..") {
            let p = body.components(separatedBy: "..").compactMap { Int($0) }
            values = (p[0]...p[1]).map(String.init)
        } else {
            values = body.components(separatedBy: ",")
        }
        let head = String(key[..<open]), tail = String(key[key.index(after: close)...])
        return values.flatMap { expand(head + $0 + tail) }
    }

    /// Rows `| \`encoder.…\` | [shape] | count |` of one section of the markdown.
    static func tableRows(_ text: String, section: String, until next: String) -> [(String, [Int], Int)] {
        guard let start = text.range(of: section) else { return [] }
        let rest = text[start.upperBound...]
        let body = rest.range(of: next).map { rest[..<$0.lowerBound] } ?? rest
        var rows: [(String, [Int], Int)] = []
        for line in body.split(separator: "\n") where line.hasPrefix("| `encoder.") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let key = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let shapeText = cells[1].components(separatedBy: "]")[0].trimmingCharacters(in: CharacterSet(charactersIn: "["))
            rows.append((key, shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) },
                         Int(cells[2]) ?? -1))
        }
        return rows
    }

    static func stateDictMarkdown() -> String? {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for p in [repo.appendingPathComponent("../shared/reference/paper-state-dict.md").path,
                  "/work/shared/reference/paper-state-dict.md"] {
            if let t = try? String(contentsOfFile: p, encoding: .utf8) { return t }
        }
        return nil
    }

    func testPaperParametersMatchAuthorsStateDict() throws {
        guard let md = Self.stateDictMarkdown() else { throw XCTSkip("paper-state-dict.md not found") }
        var expected: [String: [Int]] = [:]
        for (key, shape, count) in Self.tableRows(md, section: "### 5.1", until: "### 5.2") {
            let keys = Self.expand(key)
            XCTAssertEqual(keys.count, count, "row \(key) expands to its × count")
            for k in keys { expected[k] = shape }
        }
        XCTAssertEqual(expected.count, 1082 - 67, "5.1 lists every encoder parameter (1082 encoder keys less 67 buffers)")
        // Built as the IFER classifier, whose feature_model is the same encoder (one allocation).
        let ifer = try IferClassifier(encoder: EncoderConfig(), head: IferHeadConfig())
        let enc = ifer.featureModel
        let ours = enc.namedParameters(prefix: "encoder.")
        var seen = Set<String>()
        for (k, t) in ours {
            seen.insert(k)
            XCTAssertEqual(t.shape, expected[k], "shape of \(k)")
        }
        XCTAssertEqual(ours.count, seen.count, "no duplicate keys")
        for k in expected.keys.sorted() where !seen.contains(k) { XCTFail("missing \(k)") }
        let total = ours.reduce(0) { $0 + $1.1.count }
        XCTAssertEqual(total, 265_832_456, "encoder parameter count (paper-state-dict.md section 1)")
        XCTAssertEqual(total, expected.values.reduce(0) { $0 + $1.reduce(1, *) })

        // Buffers in 5.5: only derived ones (Swin index, the dtype-only _float_tensor), which we
        // recompute rather than store; each relative_position_index sits on an attention module
        // whose window has that many tokens.
        let attention = Dictionary(uniqueKeysWithValues: Self.modules(enc, prefix: "encoder.").compactMap { path, m in
            (m as? WindowAttention).map { (path, $0) }
        })
        var buffers = 0
        for (key, shape, _) in Self.tableRows(md, section: "### 5.5", until: "## 6") {
            for k in Self.expand(key) {
                buffers += 1
                if k.hasSuffix(".relative_position_index") {
                    let path = String(k.dropLast(".relative_position_index".count))
                    let a = try XCTUnwrap(attention[path], "attention module \(path)")
                    XCTAssertEqual([a.window * a.window, a.window * a.window], shape, k)
                    XCTAssertEqual(relativePositionIndex(window: a.window).count, shape[0] * shape[1])
                } else {
                    XCTAssertTrue(k.hasSuffix("sin_pos_embed._float_tensor"), "unexpected buffer \(k)")
                }
            }
        }
        XCTAssertEqual(buffers, 67, "encoder buffers in 5.5 (4 _float_tensor + 63 relative_position_index)")

        // IFER classifier: feature_model.* = the encoder keys, plus the 7 head keys of 5.4.
        let iferKeys = ifer.namedParameters()
        XCTAssertEqual(iferKeys.filter { $0.0.hasPrefix("feature_model.") }.map { "encoder." + $0.0.dropFirst(14) },
                       ours.map(\.0))
        var head: [String: [Int]] = [:]
        for (key, shape, _) in Self.tableRows(md.replacingOccurrences(of: "| `conv.", with: "| `encoder.conv.")
                                                .replacingOccurrences(of: "| `style_conv.", with: "| `encoder.style_conv.")
                                                .replacingOccurrences(of: "| `head.", with: "| `encoder.head."),
                                              section: "### 5.4", until: "### 5.5") {
            head[String(key.dropFirst("encoder.".count))] = shape
        }
        XCTAssertEqual(head.count, 7)
        let ourHead = iferKeys.filter { !$0.0.hasPrefix("feature_model.") }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: ourHead.map { ($0.0, $0.1.shape) }), head)
        XCTAssertEqual(enc.macs, 64_164_634_624, "forward MACs, torch FlopCounterMode on the reference (64.165 G, section 2)")
        XCTAssertEqual(ifer.parameterCount, 268_720_655, "IFER classifier total (paper-state-dict.md section 1)")
        XCTAssertEqual(IferClassifier.key(fromASIT: "encoder.levels.0.blocks.1.gamma1"), "feature_model.levels.0.blocks.1.gamma1")
    }

    static func modules(_ m: Module, prefix: String) -> [(String, Module)] {
        var out: [(String, Module)] = [(String(prefix.dropLast()), m)]
        for (k, c) in m.children { out += modules(c, prefix: prefix + k + ".") }
        return out
    }

    func testMicroCountMatchesReference() throws {
        // `encoder.py count` on micro_encoder.yaml: 242141 parameters.
        let micro = try ASITEncoder(try Self.microConfig(asCoded: false))
        XCTAssertEqual(micro.parameterCount, 242_141)
        XCTAssertEqual(micro.macs, 2_993_536, "FlopCounterMode MACs of the reference micro encoder")
    }

    // MARK: config

    func testConfigRejectsUnknownKeyAndWrongType() {
        XCTAssertThrowsError(try EncoderConfig(yaml: "model:\n  encoder:\n    windos: [8, 8]\n")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("model.encoder.windos"), s)
            XCTAssertTrue(s.contains("windows") && s.contains("style_counts"), "lists the allowed keys: \(s)")
        }
        XCTAssertThrowsError(try EncoderConfig(yaml: "model:\n  encoder:\n    depths: 3\n")) { e in
            XCTAssertTrue("\(e)".contains("model.encoder.depths"), "\(e)")
        }
        XCTAssertThrowsError(try EncoderConfig(yaml: "model:\n  encoder:\n    as_coded: \"yes\"\n")) { e in
            XCTAssertTrue("\(e)".contains("model.encoder.as_coded"), "\(e)")
        }
    }

    func testConfigListsEveryOffendingSize() throws {
        // 224 px: 56 / 28 / 14 / 7 maps; windows 8, 8, 16, 8 fit none of them.
        XCTAssertThrowsError(try EncoderConfig(yaml: "model:\n  encoder:\n    image_size: 224\n")) { e in
            let s = "\(e)"
            for key in ["windows[0]", "windows[1]", "windows[2]", "windows[3]"] {
                XCTAssertTrue(s.contains(key), "names \(key): \(s)")
            }
            XCTAssertTrue(s.contains("expected") && s.contains("found 16"), s)
        }
        XCTAssertThrowsError(try EncoderConfig(yaml: """
            model:
              encoder: {image_size: 36, dim: 16, depths: [2, 2], heads: [1, 2], windows: [4, 4], style_width: 32,
                        style_counts: [3, 5], structure_stride: 1}
            """)) { e in
            XCTAssertTrue("\(e)".contains("image_size: expected a multiple of 8"), "\(e)")
        }
        XCTAssertThrowsError(try EncoderConfig(yaml: """
            model:
              encoder: {image_size: 32, dim: 16, depths: [2, 2], heads: [3, 2], windows: [4, 3], style_width: 16,
                        style_counts: [3, 5], structure_stride: 2}
            """)) { e in
            let s = "\(e)"
            for key in ["heads[0]", "windows[1]", "style_width", "structure_stride"] {
                XCTAssertTrue(s.contains(key + ":"), "names \(key): \(s)")
            }
        }
        let micro = try Self.microConfig(asCoded: false)
        XCTAssertEqual(micro.nLatent, 8)
        XCTAssertEqual(micro.structureSize, 4)
        XCTAssertNoThrow(try micro.validate(against: GeneratorConfig(size: 32, styleDim: 32, channelMax: 32, featureResolutions: [8, 4])))
        XCTAssertThrowsError(try micro.validate(against: GeneratorConfig(size: 64, styleDim: 32, channelMax: 32))) { e in
            XCTAssertTrue("\(e)".contains("encoder.style_counts"), "\(e)")
        }
        XCTAssertThrowsError(try micro.validate(against: GeneratorConfig(size: 32, styleDim: 32, channelMax: 32,
                                                                          featureResolutions: [16, 8, 4]))) { e in
            XCTAssertTrue("\(e)".contains("generator.feature_resolutions: expected [8, 4]"), "\(e)")
        }
    }

    // MARK: training-mode behaviour

    func testDropPathIsPerSampleAndReproducible() throws {
        var c = try Self.microConfig(asCoded: false)
        c.dropPath = 0.9
        c.layerScale = 0.5   // so the blocks (and dropping them) matter
        let enc = try ASITEncoder(c)
        enc.resetAll(seed: 3)
        let x = try Tensor(Self.detValues(2 * 3 * 32 * 32, stream: 9), shape: [2, 3, 32, 32])
        let eval = try Autograd.noGrad { try enc(x) }
        func train(_ seeds: [UInt64]) throws -> EncoderOutput {
            var rngs = seeds.map { Philox(seed: $0) }
            return try Autograd.noGrad { try enc.forward(x, rngs: &rngs) }
        }
        let a = try train([1, 2]), b = try train([1, 2])
        XCTAssertEqual(a.codes.array, b.codes.array, "same per-sample generators, same result")
        XCTAssertNotEqual(a.codes.array, eval.codes.array, "drop path changes the training forward")
        // Image 0 depends only on its own generator: swapping image 1's generator leaves it alone.
        let d = try train([1, 77])
        let w = c.nLatent * c.styleWidth
        XCTAssertEqual(Array(a.codes.array[0..<w]), Array(d.codes.array[0..<w]))
        var bad = [Philox(seed: 1)]
        XCTAssertThrowsError(try enc.forward(x, rngs: &bad))
    }

    /// Bug (c): as coded, windows of image 0 attend with image 1's global query, so image 0's
    /// codes change when only image 1 changes; the fixed version keeps images independent.
    func testGlobalQueryBatchIndependenceOnlyWhenFixed() throws {
        for asCoded in [false, true] {
            let enc = try ASITEncoder(try Self.microConfig(asCoded: asCoded))
            enc.resetAll(seed: 5)
            for (_, t) in enc.namedParameters() where t.count > 1 && t.rank == 1 && t.ptr[0] == 1e-5 { t.fill(0.5) }
            let a = Self.detValues(3 * 32 * 32, stream: 11), b = Self.detValues(3 * 32 * 32, stream: 12)
            let c = Self.detValues(3 * 32 * 32, stream: 13)
            let y1 = try Autograd.noGrad { try enc(Tensor(a + b, shape: [2, 3, 32, 32])) }
            let y2 = try Autograd.noGrad { try enc(Tensor(a + c, shape: [2, 3, 32, 32])) }
            let n = 8 * 32
            let same = Array(y1.codes.array[0..<n]) == Array(y2.codes.array[0..<n])
            XCTAssertEqual(same, !asCoded, "as_coded \(asCoded): image 0 independent of image 1")
        }
    }

    // MARK: assemblies

    static let microModel = """
        model:
          generator: {size: 32, style_dim: 32, n_mlp: 2, channel_max: 32, feature_resolutions: [8, 4]}
          discriminator: {channel_max: 32, out_dim: 16}
          ifer_head: {num_classes: 7}
        """

    func microModelConfig() throws -> ModelConfig {
        let enc = try String(contentsOf: Self.fixtures.appendingPathComponent("micro_encoder.yaml"), encoding: .utf8)
        // Splice the frozen micro encoder section under the micro generator / discriminator.
        let body = enc.split(separator: "\n").drop { !$0.hasPrefix("  encoder:") }.joined(separator: "\n")
        return try ModelConfig(yaml: Self.microModel + "\n" + body + "\n")
    }

    func testASITAssemblyKeysForwardAndFrozenDecoder() throws {
        let asit = try ASIT(try microModelConfig())
        asit.resetNetworks(seed: 1)
        let q = asit.discriminator.modelQ.namedParameters(), k = asit.discriminator.modelK.namedBuffers()
        XCTAssertTrue(q.contains { $0.1.array.contains { $0 != 0 } }, "the discriminator is initialised too")
        let kByName = Dictionary(uniqueKeysWithValues: k.map { ($0.0, $0.1) })
        XCTAssertTrue(q.allSatisfy { kByName[$0.0]?.array == $0.1.array }, "k starts as a copy of q")
        asit.freezeDecoder()
        let keys = asit.namedParameters().map(\.0)
        XCTAssertTrue(keys.allSatisfy { $0.hasPrefix("encoder.") || $0.hasPrefix("decoder.") })
        XCTAssertEqual(keys.filter { $0.hasPrefix("encoder.") }, asit.encoder.namedParameters(prefix: "encoder.").map(\.0))
        XCTAssertTrue(asit.namedBuffers().contains { $0.0 == "latent_avg" })
        var rng = Philox(seed: 2)
        try asit.computeLatentAvg(samples: 64, rng: &rng)
        XCTAssertGreaterThan(asit.latentAvg.array.map(abs).max() ?? 0, 0)

        let x = try Tensor(Self.detValues(2 * 3 * 32 * 32, stream: 21), shape: [2, 3, 32, 32])
        var none: [Philox] = []
        let raw = try Autograd.noGrad { try asit.encoder(x) }
        let out = try asit(x, rngs: &none)
        XCTAssertEqual(out.image.shape, [2, 3, 32, 32])
        XCTAssertEqual(out.codes.shape, [2, 8, 32])
        XCTAssertEqual(out.structure.shape, [2, 32, 4, 4])
        // codes = raw encoder codes + latent_avg in every row.
        let w = out.codes.array, r = raw.codes.array, avg = asit.latentAvg.array
        for i in 0..<w.count { XCTAssertEqual(w[i], r[i] + avg[i % 32], accuracy: 1e-5) }
        try sumAll(try square(out.image)).backward()
        XCTAssertTrue(asit.encoder.namedParameters().contains { $0.1.grad != nil }, "the loss reaches the encoder")
        XCTAssertTrue(asit.decoder.namedParameters().allSatisfy { $0.1.grad == nil }, "the frozen decoder gets no gradient")
        Autograd.reset()
    }

    func testIferClassifierAssembly() throws {
        let cfg = try microModelConfig()
        let ifer = try IferClassifier(cfg)
        ifer.resetAll(seed: 4)
        let keys = ifer.namedParameters().map(\.0)
        XCTAssertEqual(keys.filter { !$0.hasPrefix("feature_model.") }.sorted(),
                       ["conv.bias", "conv.weight", "head.bias", "head.weight", "style_conv.modulation.bias",
                        "style_conv.modulation.weight", "style_conv.weight"])
        let logits = try ifer(Tensor(Self.detValues(2 * 3 * 32 * 32, stream: 22), shape: [2, 3, 32, 32]))
        XCTAssertEqual(logits.shape, [2, 7])
        Autograd.reset()
        var bad = cfg
        bad.iferHead.styleDim = 16
        XCTAssertThrowsError(try IferClassifier(bad)) { e in XCTAssertTrue("\(e)".contains("ifer_head.style_dim"), "\(e)") }
    }

    /// resetAll draws the authors' initialisation: layer scale γ = layer_scale, α = 0, bias tables
    /// and Linear weights N(0, 0.02²) (truncated), EqualLinear N(0, 1), LayerNorm 1 / 0.
    func testInitialisationFollowsTheAuthors() throws {
        let enc = try ASITEncoder(try Self.microConfig(asCoded: false))
        enc.resetAll(seed: 8)
        func std(_ t: Tensor) -> Float {
            let a = t.array, m = a.reduce(0, +) / Float(a.count)
            return (a.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(a.count)).squareRoot()
        }
        for (k, t) in enc.namedParameters() {
            if k.hasSuffix("gamma1") || k.hasSuffix("gamma2") { XCTAssertTrue(t.array.allSatisfy { $0 == 1e-5 }, k) }
            if k.hasSuffix("alpha") { XCTAssertEqual(t.array, [0], k) }
            if k.hasSuffix("norm1.weight") { XCTAssertTrue(t.array.allSatisfy { $0 == 1 }, k) }
            if k.hasSuffix("qkv.weight") || k.hasSuffix("relative_position_bias_table") {
                XCTAssertEqual(std(t), 0.02, accuracy: 0.006, k)
            }
            if k.hasSuffix("qkv.bias") { XCTAssertTrue(t.array.allSatisfy { $0 == 0 }, k) }
            if k.hasSuffix("linear.weight") { XCTAssertEqual(std(t), 1, accuracy: 0.05, k) }
        }
    }

    /// Every shipped config's encoder section decodes strictly and fits its generator / head
    /// (checked on the configs alone, without allocating the paper-size networks).
    func testShippedConfigsFitTogether() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        var checked = 0
        for size in ["micro", "tiny", "paper"] {
            let dir = root.appendingPathComponent(size)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files.sorted() where f.hasSuffix(".yaml") {
                let path = dir.appendingPathComponent(f).path
                let model = try ModelConfig(file: path)
                guard model.present.contains("encoder") else { continue }
                let e = model.encoder
                if f.hasPrefix("asit") { try e.validate(against: model.generator) }
                if f.hasPrefix("ifer") { try IferClassifier.validate(encoder: e, head: model.iferHead) }
                if size == "paper" {
                    // The *-authors configs run the authors' released weights with their global-query semantics.
                    var plain = e
                    if f.contains("-authors") { XCTAssertTrue(e.asCoded, f); plain.asCoded = false }
                    XCTAssertEqual(plain, EncoderConfig(), "\(f): the paper encoder is GC ViT-B")
                }
                checked += 1
            }
        }
        if checked == 0 { throw XCTSkip("no configs/ next to the package") }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }

    func testRejectsWrongInputShape() throws {
        let enc = try ASITEncoder(try Self.microConfig(asCoded: false))
        XCTAssertThrowsError(try enc(Tensor(zeros: [1, 3, 64, 64]))) { e in
            XCTAssertTrue("\(e)".contains("ASITEncoder"), "\(e)")
        }
    }
}
