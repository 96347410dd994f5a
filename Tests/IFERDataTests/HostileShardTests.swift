// Hostile and careless shards: each opens with DataError.badShard naming the file and the key
// (and, for labels, the index), before any allocation sized by what the file claims.
import Foundation
import IFERIO
import IFERTestSupport
import XCTest
@testable import IFERData

final class HostileShardTests: XCTestCase {
    /// What to put in the shard and manifest; each test changes one thing.
    struct Spec {
        var classNames = ["Happy", "Sad", "Angry"]
        var labels: [Int16] = [0, 1, 2, 1]
        var labelsAsInt32 = false
        var labelShape: [Int]? = nil
        var valence: [Float]? = nil
        var arousal: [Float]? = nil
        var imagesClaimed: Int? = nil   // an extendible /images with this many rows but no data
        var manifestCount: Int? = nil
    }

    /// Writes `<dir>/t-train-00000.h5` and `<dir>/manifest.json` from `spec`; returns the directory.
    func makeShard(_ spec: Spec) throws -> String {
        let dir = try makeTempDir(self, "hostile-shard")
        let r = 8, n = spec.labels.count
        let path = dir + "/t-train-00000.h5"
        let f = try H5File(path: path, mode: .create)
        try f.setAttribute("format", .string(ShardFormat.name))
        try f.setAttribute("format_version", .int64(ShardFormat.version))
        let rows = spec.imagesClaimed ?? n
        if spec.imagesClaimed != nil {
            let ds = try f.createDataset("/images", of: UInt8.self, shape: [rows, r, r, 3], chunk: [1, r, r, 3], extendible: true)
            ds.close()
        } else {
            try f.write("/images", [UInt8](repeating: 128, count: n * r * r * 3), shape: [n, r, r, 3])
        }
        if spec.labelsAsInt32 {
            try f.write("/labels", spec.labels.map(Int32.init), shape: spec.labelShape ?? [n])
        } else {
            try f.write("/labels", spec.labels, shape: spec.labelShape ?? [n])
        }
        if let v = spec.valence { try f.write("/valence", v) }
        if let a = spec.arousal { try f.write("/arousal", a) }
        try f.writeStrings("/source", (0..<n).map { "img\($0).png" })
        f.close()
        let count = spec.manifestCount ?? rows
        let m = Manifest(dataset: "t", resolution: r, classNames: spec.classNames, classCounts: [:], counts: ["train": count],
                         shards: [ShardEntry(file: "t-train-00000.h5", split: "train", count: count, sha256: try SHA256.hexHash(file: path))],
                         skipped: [])
        try m.write(to: dir + "/manifest.json")
        return dir
    }

    func assertBadShard(_ spec: Spec, _ needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try makeShard(spec)
        XCTAssertThrowsError(try ShardDataset(path: dir, split: "train"), file: file, line: line) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("t-train-00000.h5"), text, file: file, line: line)
            for needle in needles { XCTAssertTrue(text.contains(needle), "'\(needle)' not in: \(text)", file: file, line: line) }
        }
    }

    func testAGoodShardOpens() throws {
        let ds = try ShardDataset(path: try makeShard(Spec()), split: "train")
        XCTAssertEqual(ds.labels, [0, 1, 2, 1])
        ds.close()
    }

    func testUnlabelledSampleInALabelledDatasetIsAnErrorNamingTheIndex() throws {
        try assertBadShard(Spec(labels: [0, 1, -1, 2]), ["/labels[2]", "-1 (unlabelled)", "0..<3"])
    }

    func testLabelAtOrAboveTheClassCountIsAnError() throws {
        try assertBadShard(Spec(labels: [0, 3, 1, 2]), ["/labels[1]", "is 3"])
        try assertBadShard(Spec(labels: [0, 1, 1, -7]), ["/labels[3]", "is -7"])
    }

    func testUnlabelledDatasetMustHoldOnlyMinusOne() throws {
        XCTAssertNoThrow(try ShardDataset(path: try makeShard(Spec(classNames: [], labels: [-1, -1])), split: "train"))
        try assertBadShard(Spec(classNames: [], labels: [-1, 4]), ["/labels[1]", "lists no classes"])
    }

    func testWrongDtypeAndRankAreErrorsNamingTheKey() throws {
        try assertBadShard(Spec(labelsAsInt32: true), ["/labels", "int32"])
        try assertBadShard(Spec(labels: [0, 1, 2, 1], labelShape: [2, 2]), ["/labels", "shape [2, 2]"])
    }

    func testInconsistentLengthsAreErrors() throws {
        try assertBadShard(Spec(valence: [0.1, 0.2, 0.3, 0.4], arousal: [0.1, 0.2]), ["/arousal", "shape [2]", "expected [4]"])
        try assertBadShard(Spec(valence: [0.1, 0.2, 0.3, 0.4]), ["/arousal", "missing"])
        try assertBadShard(Spec(manifestCount: 9), ["/images", "manifest says [9"])
    }

    func testAbsurdClaimedSizeIsRefusedBeforeReading() throws {
        // /images claims a billion 8x8 images (an extendible dataset costs nothing on disk);
        // the labels would be read by that count. Refused from the file size, instantly.
        let t0 = Date()
        try assertBadShard(Spec(labels: [0, 1], imagesClaimed: 1_000_000_000), ["/images claims 1000000000 images", "bytes"])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.0)
    }

    func testAbsurdManifestResolutionIsRefused() throws {
        let dir = try makeShard(Spec())
        let text = try String(contentsOfFile: dir + "/manifest.json", encoding: .utf8)
            .replacingOccurrences(of: "\"resolution\" : 8", with: "\"resolution\" : 4000000000")
        try text.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardDataset(path: dir, split: "train")) { e in
            XCTAssertTrue("\(e)".contains("manifest.json") && "\(e)".contains("resolution 4000000000"), "\(e)")
        }
    }
}
