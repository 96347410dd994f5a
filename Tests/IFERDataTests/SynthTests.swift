import Foundation
import IFERIO
import XCTest
@testable import IFERData

/// `ifer synth`: renderer, plans, and each layout parsed back from disk as a reader of the real
/// dataset would.
final class SynthTests: XCTestCase {
    private func tempDir() throws -> URL { URL(fileURLWithPath: try makeTempDir(self, "synth")) }

    private func write(_ layout: SynthLayout, count: Int, resolution: Int = 32, seed: UInt64 = 7, jobs: Int = 2) throws -> (URL, SynthResult) {
        let root = try tempDir()
        let r = try SynthWriter.write(SynthOptions(layout: layout, count: count, resolution: resolution, seed: seed, jobs: jobs),
                                      to: root, encoder: IFERIOSynthEncoder())
        return (root, r)
    }

    private func text(_ root: URL, _ rel: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(rel), encoding: .utf8)
    }

    private func lines(_ s: String) -> [String] { s.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// Every regular file under root except synth's marker, relative path -> bytes.
    private func tree(_ root: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = root.standardizedFileURL.path
        guard let e = FileManager.default.enumerator(atPath: base) else { return out }
        for case let rel as String in e {
            var isDir: ObjCBool = false
            let full = base + "/" + rel
            if rel.hasPrefix(".ifer-synth-") { continue }  // synth's marker, not part of the layout
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: full))
            }
        }
        return out
    }

    private func decode(_ root: URL, _ rel: String, _ resolution: Int, _ format: ImageFormat) throws {
        let url = root.appendingPathComponent(rel)
        let bytes = [UInt8](try Data(contentsOf: url))
        let img = format == .png ? try decodePNG(bytes, path: url.path) : try decodeJPEG(bytes, path: url.path)
        XCTAssertEqual(img.width, resolution, rel)
        XCTAssertEqual(img.height, resolution, rel)
    }

    // MARK: - Plan

    func testPartSizesFollowTheRealSplits() {
        for layout in SynthLayout.allCases {
            let weights = layout.splits.map(\.realCount)
            let total = Double(weights.reduce(0, +))
            for n in [7, 14, 40, 1000, 7001] {
                let sizes = SynthPlan.partSizes(count: n, weights: weights)
                XCTAssertEqual(sizes.reduce(0, +), n, "\(layout) \(n)")
                XCTAssertTrue(sizes.allSatisfy { $0 >= 1 }, "\(layout) \(n) \(sizes)")
                if n >= 1000 {
                    for (s, w) in zip(sizes, weights) where Double(w) / total * Double(n) >= 7 {
                        XCTAssertEqual(Double(s), Double(w) / total * Double(n), accuracy: 1, "\(layout) \(n) \(sizes)")
                    }
                }
            }
        }
        // FFHQ 60k / 10k; RAF-DB 12271 / 3068; CelebA-HQ 24183 / 2993 / 2824.
        XCTAssertEqual(SynthPlan.partSizes(count: 7000, weights: SynthLayout.ffhq.splits.map(\.realCount)), [6000, 1000])
        XCTAssertEqual(SynthPlan.partSizes(count: 15339, weights: SynthLayout.rafdb.splits.map(\.realCount)), [12271, 3068])
        XCTAssertEqual(SynthPlan.partSizes(count: 30000, weights: SynthLayout.celebahq.splits.map(\.realCount)), [24183, 2993, 2824])
    }

    func testEveryExpressionInEverySplitOnceLargeEnough() {
        for layout in [SynthLayout.affectnet, .rafdb, .sfew] {
            let items = SynthPlan.items(layout: layout, count: 7 * 2 * layout.splits.count + 3, resolution: 16, seed: 1)
            for split in layout.splits.map(\.name) {
                let labelled = items.filter { $0.split == split && $0.label.map { layout != .affectnet || $0 < 7 } ?? false }
                let faces = Set(labelled.compactMap(\.face))
                XCTAssertEqual(faces.count, 7, "\(layout) \(split)")
            }
        }
        // Any N >= 7 shows every class somewhere.
        let items = SynthPlan.items(layout: .rafdb, count: 7, resolution: 16, seed: 1)
        XCTAssertEqual(Set(items.compactMap(\.label)), Set(1...7))
    }

    func testFFHQFoldersOfAThousand() {
        XCTAssertEqual(SynthPaths.path(layout: .ffhq, split: "training", partIndex: 0, indexInSplit: 0, sample: 0, face: .happy, resolution: 1024, seed: 0),
                       "images1024x1024/00000/00000.png")
        XCTAssertEqual(SynthPaths.path(layout: .ffhq, split: "training", partIndex: 0, indexInSplit: 999, sample: 999, face: .happy, resolution: 64, seed: 0),
                       "images64x64/00000/00999.png")
        XCTAssertEqual(SynthPaths.path(layout: .ffhq, split: "validation", partIndex: 1, indexInSplit: 0, sample: 61234, face: nil, resolution: 64, seed: 0),
                       "images64x64/61000/61234.png")
        XCTAssertEqual(SynthPaths.rafdbName(split: "train", indexInSplit: 0, aligned: true), "train_00001_aligned.jpg")
        XCTAssertEqual(SynthPaths.rafdbName(split: "test", indexInSplit: 41, aligned: false), "test_0042.jpg")
        XCTAssertEqual(SynthPaths.hexName(seed: 3, sample: 5).count, 56)
    }

    // MARK: - Renderer

    func testRendererGeometry() {
        for sample in 0..<6 {
            let f = FaceRenderer.render(seed: 11, sample: sample, expression: .surprise, resolution: 64)
            XCTAssertEqual(f.pixels.count, 64 * 64 * 3)
            XCTAssertEqual(f.landmarks.count, 68)
            for p in f.landmarks { XCTAssertTrue(p.x > 0 && p.x < 64 && p.y > 0 && p.y < 64, "landmark \(p) outside") }
            let lm = f.landmarks
            // In an upright-ish face: brows above eyes above nose tip above mouth above chin.
            let browY = (17...26).map { lm[$0].y }.reduce(0, +) / 10
            let eyeY = (36...47).map { lm[$0].y }.reduce(0, +) / 12
            XCTAssertLessThan(browY, eyeY)
            XCTAssertLessThan(eyeY, lm[30].y)
            XCTAssertLessThan(lm[30].y, lm[62].y)
            XCTAssertLessThan(lm[62].y, lm[8].y)
            XCTAssertLessThan(lm[36].x, lm[39].x); XCTAssertLessThan(lm[39].x, lm[42].x); XCTAssertLessThan(lm[42].x, lm[45].x)
            XCTAssertLessThan(lm[0].x, lm[8].x); XCTAssertLessThan(lm[8].x, lm[16].x)
            XCTAssertLessThan(lm[48].x, lm[54].x)
            let b = f.faceBox
            XCTAssertTrue(b.x >= 0 && b.y >= 0 && b.x + b.width <= 64 && b.y + b.height <= 64 && b.width > 16 && b.height > 16, "\(b)")
            XCTAssertEqual(b.width, b.height, "square like AffectNet's boxes")
            // The box holds the face: every landmark except the jaw ends is inside it.
            for p in lm[2...14] + lm[17...67] {
                XCTAssertTrue(p.x >= Float(b.x) - 0.5 && p.x <= Float(b.x + b.width) + 0.5 && p.y >= Float(b.y) - 0.5 && p.y <= Float(b.y + b.height) + 0.5, "\(p) outside \(b)")
            }
            // The face is drawn: the pixel at the nose differs from the no-face background.
            let bg = FaceRenderer.render(seed: 11, sample: sample, expression: nil, resolution: 64)
            let i = (Int(lm[29].y) * 64 + Int(lm[29].x)) * 3
            XCTAssertNotEqual(Array(f.pixels[i..<(i + 3)]), Array(bg.pixels[i..<(i + 3)]))
        }
        // Landmarks scale with the resolution.
        let a = FaceRenderer.render(seed: 2, sample: 3, expression: .happy, resolution: 32)
        let b = FaceRenderer.render(seed: 2, sample: 3, expression: .happy, resolution: 128)
        for (p, q) in zip(a.landmarks, b.landmarks) {
            XCTAssertEqual(p.x * 4, q.x, accuracy: 1e-3); XCTAssertEqual(p.y * 4, q.y, accuracy: 1e-3)
        }
    }

    func testExpressionsChangeOnlyTheFace() {
        let faces = FaceExpression.allCases.map { FaceRenderer.render(seed: 5, sample: 9, expression: $0, resolution: 64) }
        for i in 0..<7 {
            for j in (i + 1)..<7 {
                let diff = zip(faces[i].pixels, faces[j].pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
                XCTAssertGreaterThan(diff, 64 * 64 * 3 / 4, "\(FaceExpression(rawValue: i)!) vs \(FaceExpression(rawValue: j)!)")
            }
        }
        // The corners of the image (background) do not depend on the expression.
        for f in faces { XCTAssertEqual(Array(f.pixels[0..<3]), Array(faces[0].pixels[0..<3])) }
    }

    /// The expression must be recoverable across identities: a nearest-centroid classifier on
    /// four landmark measurements (brow lift, inner-brow lift, eye opening, mouth opening and
    /// corner lift, all over the eye distance) trained on 20 identities classifies 20 new ones.
    func testExpressionsSeparateAcrossIdentities() {
        func features(_ lm: [Point]) -> [Float] {
            let iod = abs(lm[45].x - lm[36].x)
            let eyeY = (lm[37].y + lm[38].y + lm[43].y + lm[44].y) / 4
            let brow = (lm[19].y + lm[24].y) / 2, inner = (lm[21].y + lm[22].y) / 2
            let open = ((lm[41].y - lm[37].y) + (lm[46].y - lm[44].y)) / 2
            let mouthOpen = lm[66].y - lm[62].y
            let cornerLift = (lm[62].y + lm[66].y) / 2 - (lm[48].y + lm[54].y) / 2
            let width = lm[54].x - lm[48].x
            let tilt = lm[54].y - lm[48].y
            return [(eyeY - brow) / iod, (brow - inner) / iod, open / iod, mouthOpen / iod, cornerLift / iod, width / iod, abs(tilt) / iod]
        }
        func sample(_ id: Int, _ e: FaceExpression) -> [Float] {
            features(FaceRenderer.render(seed: 21, sample: id, expression: e, resolution: 16).landmarks)
        }
        var centroids = [[Float]](repeating: [Float](repeating: 0, count: 7), count: 7)
        for id in 0..<20 {
            for e in FaceExpression.allCases {
                for (k, v) in sample(id, e).enumerated() { centroids[e.rawValue][k] += v / 20 }
            }
        }
        // Standardise by the spread of the centroids so no feature dominates.
        let scale = (0..<7).map { k -> Float in
            let vals = centroids.map { $0[k] }
            return max(vals.max()! - vals.min()!, 1e-6)
        }
        var correct = 0, total = 0
        for id in 100..<120 {
            for e in FaceExpression.allCases {
                let f = sample(id, e)
                let guess = (0..<7).min { a, b in
                    let da = (0..<7).reduce(Float(0)) { $0 + pow((f[$1] - centroids[a][$1]) / scale[$1], 2) }
                    let db = (0..<7).reduce(Float(0)) { $0 + pow((f[$1] - centroids[b][$1]) / scale[$1], 2) }
                    return da < db
                }!
                correct += guess == e.rawValue ? 1 : 0
                total += 1
            }
        }
        XCTAssertGreaterThan(Double(correct) / Double(total), 0.8, "nearest-centroid accuracy \(correct)/\(total)")
    }

    // MARK: - Determinism

    func testSameSeedSameBytesAnyThreadCount() throws {
        let (a, _) = try write(.rafdb, count: 14, seed: 3, jobs: 2)
        let (b, _) = try write(.rafdb, count: 14, seed: 3, jobs: 1)
        let (c, _) = try write(.rafdb, count: 14, seed: 4, jobs: 2)
        let ta = try tree(a), tb = try tree(b), tc = try tree(c)
        XCTAssertEqual(ta.count, 15)  // 14 images + label file
        XCTAssertEqual(ta, tb)
        XCTAssertEqual(Set(ta.keys), Set(tc.keys))
        let differing = ta.keys.filter { $0.hasSuffix(".jpg") && ta[$0] != tc[$0] }
        XCTAssertEqual(differing.count, 14, "another seed must give other faces")
    }

    // MARK: - Layouts

    func testFFHQLayout() throws {
        let (root, r) = try write(.ffhq, count: 21, resolution: 32)
        let files = try tree(root)
        XCTAssertEqual(files.count, 22)
        for i in 0..<21 {
            let rel = "images32x32/00000/" + SynthPaths.pad(i, 5) + ".png"
            XCTAssertNotNil(files[rel], rel)
            try decode(root, rel, 32, .png)
        }
        let json = try JSONSerialization.jsonObject(with: XCTUnwrap(files["ffhq-dataset-v2.json"])) as? [String: Any]
        let meta = try XCTUnwrap(json)
        XCTAssertEqual(meta.count, 21)
        let nTrain = r.items.filter { $0.split == "training" }.count
        XCTAssertEqual(nTrain, 18)  // 6/7 of 21
        for i in 0..<21 {
            let entry = try XCTUnwrap(meta[String(i)] as? [String: Any])
            XCTAssertEqual(entry["category"] as? String, i < nTrain ? "training" : "validation")
            let image = try XCTUnwrap(entry["image"] as? [String: Any])
            let path = try XCTUnwrap(image["file_path"] as? String)
            XCTAssertEqual(image["file_size"] as? Int, files[path]?.count)
            XCTAssertEqual(image["pixel_size"] as? [Int], [32, 32])
        }
    }

    func testCelebAHQLayout() throws {
        let n = 42
        let (root, _) = try write(.celebahq, count: n, resolution: 32)
        let mapping = lines(try text(root, "CelebA-HQ-to-CelebA-mapping.txt"))
        XCTAssertEqual(mapping.first?.split(separator: " ").map(String.init), ["idx", "orig_idx", "orig_file"])
        XCTAssertEqual(mapping.count, n + 1)
        var origToHQ: [String: Int] = [:]
        for (i, line) in mapping.dropFirst().enumerated() {
            let f = line.split(separator: " ").map(String.init)
            XCTAssertEqual(f.count, 3, line)
            XCTAssertEqual(Int(f[0]), i)
            let orig = try XCTUnwrap(Int(f[1]))
            XCTAssertEqual(f[2], SynthPaths.pad(orig + 1, 6) + ".jpg")
            origToHQ[f[2]] = i
            try decode(root, "CelebA-HQ-img/\(i).jpg", 32, .jpeg)
        }
        XCTAssertEqual(origToHQ.count, n, "original files are distinct")
        // The partition file maps each original to 0/1/2 consistently with CelebA's ranges.
        var counts = [0, 0, 0]
        for line in lines(try text(root, "list_eval_partition.txt")) {
            let f = line.split(separator: " ").map(String.init)
            XCTAssertEqual(f.count, 2)
            let code = try XCTUnwrap(Int(f[1]))
            let number = try XCTUnwrap(Int(f[0].dropLast(4)))
            XCTAssertNotNil(origToHQ[f[0]])
            XCTAssertEqual(code, number <= 162_770 ? 0 : number <= 182_637 ? 1 : 2, line)
            counts[code] += 1
        }
        XCTAssertEqual(counts, SynthPlan.partSizes(count: n, weights: [24_183, 2_993, 2_824]))
        XCTAssertEqual(counts.reduce(0, +), n)
    }

    func testAffectNetLayout() throws {
        let res = 48
        let (root, _) = try write(.affectnet, count: 40, resolution: res)
        let train = lines(try text(root, "training.csv")), val = lines(try text(root, "validation.csv"))
        XCTAssertEqual(train.first, "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal")
        XCTAssertFalse(val.first?.hasPrefix("subDirectory_filePath") ?? true, "validation.csv has no header row")
        let rows = train.dropFirst().map { ($0, "training") } + val.map { ($0, "validation") }
        XCTAssertEqual(rows.count, 40)
        var codes: [String: Set<Int>] = [:]
        for (row, split) in rows {
            let f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 9, row)
            let parts = f[0].split(separator: "/")
            XCTAssertEqual(parts.count, 2)
            XCTAssertNotNil(Int(parts[0]))
            XCTAssertEqual(parts[1].count, 56 + 4)
            try decode(root, "Manually_Annotated_Images/" + f[0], res, .jpeg)
            let box = f[1...4].compactMap { Int($0) }
            XCTAssertEqual(box.count, 4)
            XCTAssertTrue(box[0] >= 0 && box[1] >= 0 && box[2] > 0 && box[3] > 0 && box[0] + box[2] <= res && box[1] + box[3] <= res, row)
            let lm = f[5].split(separator: ";").compactMap { Double($0) }
            XCTAssertEqual(lm.count, 136)
            XCTAssertTrue(lm.allSatisfy { $0 >= 0 && $0 <= Double(res) })
            let code = try XCTUnwrap(Int(f[6]))
            let v = try XCTUnwrap(Double(f[7])), a = try XCTUnwrap(Double(f[8]))
            if code >= 9 { XCTAssertEqual([v, a], [-2, -2]) } else { XCTAssertTrue(abs(v) <= 1 && abs(a) <= 1) }
            codes[split, default: []].insert(code)
        }
        XCTAssertTrue(codes["training"]!.isSuperset(of: [8, 9, 10]), "rows of the codes readers must filter out")
        XCTAssertEqual(codes["training"]!.union(codes["validation"]!).filter { $0 < 7 }, Set(0...6))
        XCTAssertEqual(codes["validation"], Set(0...6))
    }

    func testRAFDBLayout() throws {
        let (root, _) = try write(.rafdb, count: 35, resolution: 32)
        let labels = lines(try text(root, "EmoLabel/list_patition_label.txt"))
        XCTAssertEqual(labels.count, 35)
        var train = 0, test = 0, seen = Set<Int>()
        for line in labels {
            let f = line.split(separator: " ").map(String.init)
            XCTAssertEqual(f.count, 2)
            let label = try XCTUnwrap(Int(f[1]))
            XCTAssertTrue((1...7).contains(label))
            seen.insert(label)
            let stem = String(f[0].dropLast(4))
            if stem.hasPrefix("train_") { train += 1; XCTAssertEqual(stem.count, 11); XCTAssertEqual(stem, "train_" + SynthPaths.pad(train, 5)) }
            else { test += 1; XCTAssertEqual(stem, "test_" + SynthPaths.pad(test, 4)) }
            try decode(root, "Image/aligned/\(stem)_aligned.jpg", 32, .jpeg)
        }
        XCTAssertEqual([train, test], SynthPlan.partSizes(count: 35, weights: [12_271, 3_068]))
        XCTAssertEqual(seen, Set(1...7))
        // Labels are the RAF-DB ids of what was drawn: 1 Surprise ... 7 Neutral.
        XCTAssertEqual(FaceExpression.allCases.map(\.rafdbLabel), [7, 4, 5, 1, 2, 3, 6])
    }

    func testSFEWLayout() throws {
        let (root, r) = try write(.sfew, count: 30, resolution: 32)
        let files = try tree(root)
        XCTAssertEqual(files.count, 30)
        let classes = ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
        XCTAssertEqual(SynthLayout.sfew.classNames, classes)
        var perSplit: [String: Set<String>] = [:]
        for rel in files.keys {
            let parts = rel.split(separator: "/").map(String.init)
            XCTAssertEqual(parts.count, 3, rel)
            XCTAssertTrue(["Train", "Val"].contains(parts[0]))
            XCTAssertTrue(classes.contains(parts[1]))
            XCTAssertTrue(parts[2].hasSuffix(".png"))
            perSplit[parts[0], default: []].insert(parts[1])
            try decode(root, rel, 32, .png)
        }
        XCTAssertEqual(perSplit["Train"], Set(classes))
        XCTAssertEqual(r.items.filter { $0.split == "Train" }.count, 21)  // 958 : 436
        for item in r.items { XCTAssertEqual(item.path.split(separator: "/")[1], Substring(item.face!.sfewFolder)) }
    }

    // MARK: - Bad options and the command line

    func testBadOptionsAreClearErrors() throws {
        let root = try tempDir()
        XCTAssertThrowsError(try SynthWriter.write(SynthOptions(layout: .rafdb, count: 6, resolution: 32), to: root, encoder: IFERIOSynthEncoder())) {
            XCTAssertTrue("\($0)".contains("--count"), "\($0)")
        }
        XCTAssertThrowsError(try SynthWriter.write(SynthOptions(layout: .rafdb, count: 7, resolution: 8), to: root, encoder: IFERIOSynthEncoder())) {
            XCTAssertTrue("\($0)".contains("--resolution"), "\($0)")
        }
        // A directory below a regular file cannot be created.
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try SynthWriter.write(SynthOptions(layout: .sfew, count: 7, resolution: 16), to: file.appendingPathComponent("out"),
                                                   encoder: IFERIOSynthEncoder())) {
            XCTAssertTrue("\($0)".contains("plain-file is a file, not a directory"), "\($0)")
        }
    }

    func testEarlierRunIsRefusedOrReplaced() throws {
        let (root, _) = try write(.sfew, count: 30, resolution: 16)
        // A rerun replaces synth's own earlier output (marker file) ...
        _ = try SynthWriter.write(SynthOptions(layout: .sfew, count: 21, resolution: 16), to: root, encoder: IFERIOSynthEncoder())
        XCTAssertEqual(try tree(root).keys.filter { $0.hasSuffix(".png") }.count, 21)
        // ... but files it did not write (no marker) are refused unless --overwrite.
        try FileManager.default.removeItem(at: root.appendingPathComponent(SynthWriter.markerName(.sfew)))
        let other = root.appendingPathComponent("notes.txt")
        try Data("keep me".utf8).write(to: other)
        let again = SynthOptions(layout: .sfew, count: 14, resolution: 16, seed: 7)
        XCTAssertThrowsError(try SynthWriter.write(again, to: root, encoder: IFERIOSynthEncoder())) {
            XCTAssertTrue("\($0)".contains("--overwrite") && "\($0)".contains("Train"), "\($0)")
        }
        var replace = again
        replace.overwrite = true
        _ = try SynthWriter.write(replace, to: root, encoder: IFERIOSynthEncoder())
        let files = try tree(root)
        XCTAssertEqual(files.count, 15, "14 new images and the unrelated file, none of the old ones")
        XCTAssertEqual(files["notes.txt"], Data("keep me".utf8))
        // Another layout in the same directory does not conflict; an FFHQ tree of another size does.
        _ = try SynthWriter.write(SynthOptions(layout: .ffhq, count: 7, resolution: 16), to: root, encoder: IFERIOSynthEncoder())
        XCTAssertEqual(SynthWriter.ownEntries(root, .ffhq), ["ffhq-dataset-v2.json", "images16x16"])
        _ = try SynthWriter.write(SynthOptions(layout: .ffhq, count: 7, resolution: 20), to: root, encoder: IFERIOSynthEncoder())
        XCTAssertEqual(SynthWriter.ownEntries(root, .ffhq), ["ffhq-dataset-v2.json", "images20x20"], "the other size's tree is replaced")
    }

    func testCommandLine() throws {
        let out = try tempDir()
        let ok = try IferProcess.run(ranks: 0, ["synth", "--layout", "sfew", "--out", out.path, "--count", "14", "--resolution", "16", "--seed", "2"])
        XCTAssertEqual(ok.status, 0, ok.all)
        XCTAssertTrue(ok.all.contains("wrote 14 sfew images"), ok.all)
        let bad = try IferProcess.run(ranks: 0, ["synth", "--layout", "mnist", "--out", out.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.all.contains("mnist") && bad.all.contains("rafdb"), bad.all)
        let few = try IferProcess.run(ranks: 0, ["synth", "--layout", "rafdb", "--out", out.path, "--count", "3"])
        XCTAssertNotEqual(few.status, 0)
        XCTAssertTrue(few.all.contains("--count"), few.all)
    }
}
