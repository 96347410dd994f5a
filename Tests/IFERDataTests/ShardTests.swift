import Foundation
import IFERDist
import IFERIO
import IFERTestSupport
import XCTest
@testable import IFERData

/// Sharding end to end: bad inputs skipped and listed, reruns keep complete shards, errors name
/// files, h5py reads the shards, and `mpirun -np 2 ifer shard` writes what one process writes.
final class ShardTests: XCTestCase {
    /// A RAF-DB copy with 8 good aligned faces (6 train, 2 test) and one of each bad input.
    /// Returns the root and the expected reason fragment per skipped source.
    static func makeRAFDB(size: Int = 48) throws -> (String, [String: String]) {
        let root = try makeTempDir(nil, "rafdb-shard")
        let dir = root + "/basic/Image/aligned"
        var lines: [String] = []
        for i in 1...6 {
            try Fixtures.jpeg(dir + String(format: "/train_%05d_aligned.jpg", i), size: size, seed: i)
            lines.append(String(format: "train_%05d.jpg %d", i, (i % 7) + 1))
        }
        for i in 1...2 {
            try Fixtures.png(dir + String(format: "/test_%04d_aligned.jpg", i), size: size, seed: 10 + i)  // PNG bytes under .jpg: sniffed
            lines.append(String(format: "test_%04d.jpg %d", i, i))
        }
        let img = Fixtures.pattern(width: 48, height: 48, seed: 9)
        let good = try encodeJPEG(img, quality: 90)
        var garbled = Array(good.prefix(4))
        for i in 0..<600 { garbled.append(UInt8(truncatingIfNeeded: i &* 131 &+ 7)) }
        let bad: [(String, [UInt8], String)] = [
            ("train_00100", [], "empty"),
            ("train_00101", Array(good.prefix(good.count / 3)), ""),
            ("train_00102", Array("not an image at all\n".utf8), "not a PNG or JPEG"),
            ("train_00103", garbled, ""),
            ("train_00104", try encodeJPEG(Fixtures.pattern(width: 12, height: 12, seed: 1)), "smaller than the target"),
        ]
        var reasons: [String: String] = [:]
        for (stem, bytes, why) in bad {
            Fixtures.write(bytes, dir + "/\(stem)_aligned.jpg")
            lines.append("\(stem).jpg 3")
            reasons["basic/Image/aligned/\(stem)_aligned.jpg"] = why
        }
        try Fixtures.jpeg(dir + "/train_00105_aligned.jpg", size: size, seed: 5)
        lines.append("train_00105.jpg 9")
        reasons["basic/Image/aligned/train_00105_aligned.jpg"] = "label 9 is out of range"
        lines.append("train_00106.jpg 2")
        reasons["basic/Image/aligned/train_00106_aligned.jpg"] = "file does not exist"
        Fixtures.text(lines.joined(separator: "\n") + "\n", root + "/basic/EmoLabel/list_patition_label.txt")
        return (root, reasons)
    }

    /// Shards of about 2 images at 32 px.
    static let smallShards = 2.0 * 32 * 32 * 3 / 1_048_576

    func testRAFDBShardsSkipsBadInputsAndKeepsLabels() throws {
        let (root, reasons) = try Self.makeRAFDB()
        let out = try makeTempDir(self, "rafdb-out")
        let s = try ShardCoordinator.run(ShardOptions(dataset: .rafdb, root: root, out: out, resolution: 32, shardSizeMB: Self.smallShards),
                                         comm: SingleProcess())
        let m = try XCTUnwrap(s.manifest)
        XCTAssertEqual(m.counts, ["train": 6, "test": 2])
        XCTAssertEqual(m.classNames, DatasetKind.rafdb.classNames())
        XCTAssertEqual(m.classCounts["test"], [1, 1, 0, 0, 0, 0, 0])
        XCTAssertEqual(m.classCounts["train"]?.reduce(0, +), 6)
        XCTAssertEqual(Set(m.skipped.map(\.source)), Set(reasons.keys), "\(m.skipped)")
        for sk in m.skipped {
            let why = reasons[sk.source]!
            XCTAssertTrue(why.isEmpty || sk.reason.contains(why), "\(sk.source): \(sk.reason)")
            XCTAssertFalse(sk.reason.isEmpty)
        }
        // Names are <dataset>-<split>-<NNNNN>.h5, numbered per split from the sorted sources.
        XCTAssertEqual(m.shards.filter { $0.split == "test" }.map(\.file), ["rafdb-test-00000.h5"])
        XCTAssertTrue(m.shards.allSatisfy { $0.file.hasPrefix("rafdb-train-") || $0.file.hasPrefix("rafdb-test-") })

        let ds = try ShardDataset(path: out, split: "train")
        XCTAssertEqual(ds.count, 6)
        XCTAssertEqual(ds.labels, (1...6).map { $0 % 7 })
        XCTAssertEqual(try ds.source(of: 0), "basic/Image/aligned/train_00001_aligned.jpg")
        // Image 0 is the decoded JPEG resampled with the documented crop (whole square image).
        let decoded = try decodeImage(path: root + "/basic/Image/aligned/train_00001_aligned.jpg")
        let want = decoded.pixels.withUnsafeBufferPointer {
            Resample.resampleUInt8($0.baseAddress!, width: 48, height: 48, box: (0, 0, 48, 48), outWidth: 32, outHeight: 32)
        }
        var got = [UInt8](repeating: 0, count: ds.imageBytes)
        try got.withUnsafeMutableBufferPointer { try ds.readImages([0], into: $0.baseAddress!) }
        XCTAssertEqual(got, want)
        XCTAssertTrue(ds.valence.allSatisfy(\.isNaN))
        let f = try H5File(path: out + "/" + m.shards[0].file, mode: .readOnly)
        XCTAssertEqual(try f.attribute("format").stringValue, "ifer-shard")
        XCTAssertEqual(try f.attribute("resolution").int64Value, 32)
        XCTAssertEqual(try f.attribute("class_names").stringsValue, DatasetKind.rafdb.classNames())
        XCTAssertFalse(f.exists("/valence"), "only AffectNet stores valence")
    }

    func testRerunKeepsCompleteShardsAndRewritesCorruptOnes() throws {
        let (root, _) = try Self.makeRAFDB()
        let out = try makeTempDir(self, "rerun-out")
        let opts = ShardOptions(dataset: .rafdb, root: root, out: out, resolution: 32, shardSizeMB: Self.smallShards)
        let first = try ShardCoordinator.run(opts, comm: SingleProcess())
        let planned = first.written
        XCTAssertGreaterThan(planned, 2)
        let again = try ShardCoordinator.run(opts, comm: SingleProcess())
        XCTAssertEqual(again.written, 0)
        XCTAssertEqual(again.reused, planned)
        XCTAssertEqual(again.manifest, first.manifest)

        // Damage one shard: only it is written again, and the manifest gets its new checksum.
        let victim = out + "/" + first.manifest!.shards[1].file
        var bytes = try readFileBytes(victim)
        bytes[bytes.count / 2] ^= 0xFF
        try writeFileBytes(bytes, path: victim)
        let third = try ShardCoordinator.run(opts, comm: SingleProcess())
        XCTAssertEqual(third.written, 1)
        XCTAssertEqual(third.reused, planned - 1)
        XCTAssertEqual(third.manifest?.counts, first.manifest?.counts)
        _ = try ShardDataset(path: out, split: "train")

        // Other arguments make other shards: nothing is reused.
        var bigger = opts
        bigger.resolution = 24
        XCTAssertEqual(try ShardCoordinator.run(bigger, comm: SingleProcess()).reused, 0)
    }

    func testChecksumFailureAtLoadNamesTheShard() throws {
        let (root, _) = try Self.makeRAFDB()
        let out = try makeTempDir(self, "sha-out")
        let s = try ShardCoordinator.run(ShardOptions(dataset: .rafdb, root: root, out: out, resolution: 32), comm: SingleProcess())
        let file = out + "/" + s.manifest!.shards[0].file
        var bytes = try readFileBytes(file)
        bytes[bytes.count - 10] ^= 0x01
        try writeFileBytes(bytes, path: file)
        XCTAssertThrowsError(try ShardDataset(path: out, split: "train")) { e in
            guard case DataError.checksum(let path, _, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, file)
            XCTAssertTrue("\(e)".contains(file))
        }
        // A missing shard and a missing split name what is missing.
        try FileManager.default.removeItem(atPath: file)
        XCTAssertThrowsError(try ShardDataset(path: out, split: "train")) { e in XCTAssertTrue("\(e)".contains(file), "\(e)") }
        XCTAssertThrowsError(try ShardDataset(path: out, split: "val")) { e in XCTAssertTrue("\(e)".contains("val"), "\(e)") }
        XCTAssertThrowsError(try ShardDataset(path: out + "/nope", split: "train")) { e in XCTAssertTrue("\(e)".contains("manifest.json"), "\(e)") }
    }

    func testEmptyDatasetAndMissingRootAreClearErrors() throws {
        let root = try makeTempDir(self, "empty")
        _ = try Fixtures.badFiles(dir: root, ext: "png", target: 32)
        let out = try makeTempDir(self, "empty-out")
        XCTAssertThrowsError(try ShardCoordinator.run(ShardOptions(dataset: .folder, root: root, out: out, resolution: 32), comm: SingleProcess())) { e in
            XCTAssertTrue("\(e)".contains("empty dataset"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/manifest.json"))
        let nothing = try makeTempDir(self, "nothing")
        XCTAssertThrowsError(try ShardCoordinator.run(ShardOptions(dataset: .ffhq, root: nothing, out: out, resolution: 32), comm: SingleProcess())) { e in
            XCTAssertTrue("\(e)".contains("empty dataset") && "\(e)".contains(nothing), "\(e)")
        }
        XCTAssertThrowsError(try ShardCoordinator.run(ShardOptions(dataset: .ffhq, root: nothing + "/x", out: out, resolution: 32), comm: SingleProcess())) { e in
            XCTAssertTrue("\(e)".contains(nothing + "/x"), "\(e)")
        }
        XCTAssertThrowsError(try ShardCoordinator.run(ShardOptions(dataset: .ffhq, root: nothing, out: out, resolution: 32, splits: ["val"]), comm: SingleProcess())) { e in
            XCTAssertTrue("\(e)".contains("--split val"), "\(e)")
        }
    }

    func testFolderBadFilesAreListedNeverFatal() throws {
        let root = try makeTempDir(self, "bad-folder")
        try Fixtures.png(root + "/good.png", size: 40, seed: 1)
        try Fixtures.jpeg(root + "/good2.jpg", size: 40, width: 60, seed: 2)
        let expect = try Fixtures.badFiles(dir: root, ext: "png", target: 32)
            .merging(try Fixtures.badFiles(dir: root, prefix: "j", ext: "jpg", target: 32)) { a, _ in a }
        let out = try makeTempDir(self, "bad-folder-out")
        let m = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: .folder, root: root, out: out, resolution: 32), comm: SingleProcess()).manifest)
        XCTAssertEqual(m.counts["train"], 2)
        XCTAssertEqual(m.skipped.count, expect.count, "\(m.skipped)")
        for sk in m.skipped {
            let stem = (sk.source as NSString).deletingPathExtension
            let why = try XCTUnwrap(expect[stem], sk.source)
            XCTAssertTrue(why.isEmpty || sk.reason.contains(why), "\(sk.source): \(sk.reason)")
        }
    }

    /// Every PNG colour type / bit depth / interlacing and every JPEG kind goes through the shard
    /// path (decoders and their fixtures belong to IFERIO; here they meet the coordinator).
    func testEveryPNGAndJPEGKindShards() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("IFERIOTests/Fixtures").path
        let names = ["cmyk.jpg", "grey2.png", "grey8.png", "greyalpha.png", "interlaced.png", "palette4.png", "rgb16.png"]
        guard names.allSatisfy({ FileManager.default.fileExists(atPath: fixtures + "/" + $0) }) else {
            throw XCTSkip("IFERIO fixtures not found at \(fixtures)")
        }
        let root = try makeTempDir(self, "kinds")
        for n in names { try FileManager.default.copyItem(atPath: fixtures + "/" + n, toPath: root + "/" + n) }
        let img = Fixtures.pattern(width: 20, height: 12, seed: 2)
        Fixtures.write(try encodeJPEG(img, quality: 80, progressive: true), root + "/progressive.jpg")
        Fixtures.write(try encodeGrayJPEG([UInt8](repeating: 90, count: 12 * 10), width: 12, height: 10), root + "/grey.jpg")
        let out = try makeTempDir(self, "kinds-out")
        let m = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: .folder, root: root, out: out, resolution: 8, allowUpscale: true),
                                                   comm: SingleProcess()).manifest)
        XCTAssertEqual(m.counts["train"], names.count + 2, "\(m.skipped)")
        XCTAssertEqual(m.skipped, [])
        let ds = try ShardDataset(path: out, split: "train")
        let grey = try XCTUnwrap((0..<ds.count).first { (try? ds.source(of: $0)) == "grey.jpg" })
        var px = [UInt8](repeating: 0, count: ds.imageBytes)
        try px.withUnsafeMutableBufferPointer { try ds.readImages([grey], into: $0.baseAddress!) }
        XCTAssertTrue(px.allSatisfy { abs(Int($0) - 90) <= 1 }, "greyscale JPEG becomes R = G = B")
        // Without --allow-upscale the sources smaller than 8 px are listed, not fatal.
        let strictOut = try makeTempDir(self, "kinds-strict")
        let strict = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: .folder, root: root, out: strictOut, resolution: 8),
                                                        comm: SingleProcess()).manifest)
        XCTAssertEqual(Set(strict.skipped.map(\.source)), ["grey2.png", "grey8.png", "greyalpha.png", "interlaced.png", "palette4.png", "rgb16.png"])
        XCTAssertTrue(strict.skipped.allSatisfy { $0.reason.contains("smaller than the target 8x8") })
    }

    func testAffectNetCropsFaceBoxesAndKeepsValenceArousal() throws {
        let root = try makeTempDir(self, "affectnet-shard")
        try Fixtures.png(root + "/Manually_Annotated_Images/1/a.png", size: 64, width: 80, seed: 3)
        try Fixtures.jpeg(root + "/Manually_Annotated_Images/1/b.jpg", size: 64, seed: 4)
        let lm = (0..<136).map { _ in "1.0" }.joined(separator: ";")
        Fixtures.text("subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
                      + "1/a.png,20,8,40,40,\(lm),3,0.25,-0.5\n1/b.jpg,0,0,64,64,\(lm),0,-2,-2\n1/b.jpg,0,0,4,4,\(lm),0,0,0\n",
                      root + "/training.csv")
        let out = try makeTempDir(self, "affectnet-out")
        let m = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: .affectnet, root: root, out: out, resolution: 16), comm: SingleProcess()).manifest)
        XCTAssertEqual(m.counts["train"], 2)
        XCTAssertEqual(m.classNames.count, 7)
        XCTAssertEqual(m.skipped.map(\.reason).filter { $0.contains("listed twice") }.count, 1)
        let ds = try ShardDataset(path: out, split: "train")
        XCTAssertEqual(ds.labels, [3, 0])
        XCTAssertEqual(ds.valence[0], 0.25); XCTAssertEqual(ds.arousal[0], -0.5)
        XCTAssertTrue(ds.valence[1].isNaN && ds.arousal[1].isNaN)
        let a = try decodeImage(path: root + "/Manually_Annotated_Images/1/a.png")
        let want = a.pixels.withUnsafeBufferPointer {
            Resample.resampleUInt8($0.baseAddress!, width: 80, height: 64, box: (20, 8, 60, 48), outWidth: 16, outHeight: 16)
        }
        var got = [UInt8](repeating: 0, count: ds.imageBytes)
        try got.withUnsafeMutableBufferPointer { try ds.readImages([0], into: $0.baseAddress!) }
        XCTAssertEqual(got, want)
    }

    func testH5pyReadsShards() throws {
        guard let python = IferProcess.pythonWithH5py() else { throw XCTSkip("h5py is not available") }
        let (root, _) = try Self.makeRAFDB()
        let out = try makeTempDir(self, "h5py-out")
        let m = try XCTUnwrap(ShardCoordinator.run(ShardOptions(dataset: .rafdb, root: root, out: out, resolution: 32), comm: SingleProcess()).manifest)
        let script = """
        import h5py, json, sys
        f = h5py.File(sys.argv[1], "r")
        print(json.dumps({
            "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()},
            "images": [list(f["images"].shape), str(f["images"].dtype), list(f["images"].chunks)],
            "labels": [f["labels"][:].tolist(), str(f["labels"].dtype)],
            "source": [s.decode() if isinstance(s, bytes) else s for s in f["source"][:]],
            "pixel": int(f["images"][1, 5, 7, 2]),
        }, default=lambda o: o.decode() if isinstance(o, bytes) else str(o)))
        """
        let shard = m.shards.first { $0.split == "train" }!
        let r = try IferProcess.launch(python, ["-c", script, out + "/" + shard.file])
        XCTAssertEqual(r.status, 0, r.all)
        let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.all)
        let attrs = try XCTUnwrap(j["attrs"] as? [String: Any])
        XCTAssertEqual(attrs["format"] as? String, "ifer-shard")
        XCTAssertEqual(attrs["dataset"] as? String, "rafdb")
        XCTAssertEqual(attrs["split"] as? String, "train")
        XCTAssertEqual(attrs["resolution"] as? Int, 32)
        XCTAssertEqual(attrs["class_names"] as? [String], DatasetKind.rafdb.classNames())
        let images = try XCTUnwrap(j["images"] as? [Any])
        XCTAssertEqual(images[0] as? [Int], [6, 32, 32, 3])
        XCTAssertEqual(images[1] as? String, "uint8")
        XCTAssertEqual(images[2] as? [Int], [1, 32, 32, 3], "one image per chunk")
        let labels = try XCTUnwrap(j["labels"] as? [Any])
        XCTAssertEqual(labels[0] as? [Int], (1...6).map { $0 % 7 })
        XCTAssertEqual(labels[1] as? String, "int16")
        XCTAssertEqual((j["source"] as? [String])?.first, "basic/Image/aligned/train_00001_aligned.jpg")
        let ds = try ShardDataset(path: out, split: "train")
        var px = [UInt8](repeating: 0, count: ds.imageBytes)
        try px.withUnsafeMutableBufferPointer { try ds.readImages([1], into: $0.baseAddress!) }
        XCTAssertEqual(j["pixel"] as? Int, Int(px[(5 * 32 + 7) * 3 + 2]))
    }

    func testTwoRanksUnderMpirunWriteWhatOneProcessWrites() throws {
        let (root, _) = try Self.makeRAFDB()
        let one = try makeTempDir(self, "np1"), two = try makeTempDir(self, "np2")
        let args = ["shard", "--dataset", "rafdb", "--root", root, "--resolution", "32", "--shard-size-mb", "\(Self.smallShards)"]
        let r1 = try IferProcess.run(ranks: 0, args + ["--out", one])
        XCTAssertEqual(r1.status, 0, r1.all)
        let r2 = try IferProcess.run(ranks: 2, args + ["--out", two, "--json"])
        XCTAssertEqual(r2.status, 0, r2.all)
        XCTAssertTrue(r2.stdout.contains("\"ranks\":2"), r2.all)
        let m1 = try Manifest.load(one + "/manifest.json"), m2 = try Manifest.load(two + "/manifest.json")
        XCTAssertEqual(m1.shards.map(\.file), m2.shards.map(\.file))
        XCTAssertEqual(m1.shards.map(\.count), m2.shards.map(\.count))
        XCTAssertEqual(m1.skipped, m2.skipped)
        XCTAssertEqual(m1.classCounts, m2.classCounts)
        for split in ["train", "test"] {
            let a = try ShardDataset(path: one, split: split), b = try ShardDataset(path: two, split: split)
            XCTAssertEqual(a.labels, b.labels)
            var pa = [UInt8](repeating: 0, count: a.count * a.imageBytes), pb = pa
            try pa.withUnsafeMutableBufferPointer { try a.readImages(Array(0..<a.count), into: $0.baseAddress!) }
            try pb.withUnsafeMutableBufferPointer { try b.readImages(Array(0..<b.count), into: $0.baseAddress!) }
            XCTAssertEqual(pa, pb, split)
        }
        // More than equal contents: the same bytes (no HDF5 timestamps), manifest included.
        for name in m1.shards.map(\.file) + ["manifest.json"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: one + "/" + name))
            XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: two + "/" + name)), name)
        }
        // A second run under mpirun keeps every shard.
        let again = try IferProcess.run(ranks: 2, args + ["--out", two, "--json"])
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertTrue(again.stdout.contains("\"written\":0"), again.all)

        // A missing root fails every rank with a message naming it.
        let bad = try IferProcess.run(ranks: 2, ["shard", "--dataset", "ffhq", "--root", root + "/missing", "--out", two])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.all.contains(root + "/missing"), bad.all)
    }
}
