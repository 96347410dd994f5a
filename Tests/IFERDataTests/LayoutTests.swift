import XCTest
@testable import IFERData

/// Each layout scanner on a hand-made copy of the real dataset layout (reference section 8),
/// including the malformed annotations each format can have.
final class LayoutTests: XCTestCase {
    func testFFHQSubfoldersSplitAndNonImages() throws {
        let root = try makeTempDir(self, "ffhq")
        let base = root + "/images1024x1024"
        for name in ["00000/00000.png", "00000/00001.png", "59000/59999.png", "60000/60000.png", "69000/69999.png"] {
            Fixtures.text("x", base + "/" + name)  // existence is all the scan looks at
        }
        Fixtures.text("{}", root + "/ffhq-dataset-v2.json")
        Fixtures.text("licence", base + "/LICENSE.txt")
        let r = try scanDataset(.ffhq, root: root)
        XCTAssertEqual(r.items.map(\.source), ["images1024x1024/00000/00000.png", "images1024x1024/00000/00001.png",
                                               "images1024x1024/59000/59999.png", "images1024x1024/60000/60000.png",
                                               "images1024x1024/69000/69999.png"])
        XCTAssertEqual(r.items.map(\.split), ["train", "train", "train", "test", "test"])
        XCTAssertTrue(r.items.allSatisfy { $0.label == -1 })
        XCTAssertEqual(DatasetKind.ffhq.classNames(), [])
    }

    func testCelebAHQPartitionThroughMapping() throws {
        let root = try makeTempDir(self, "celebahq")
        for i in 0..<5 { Fixtures.text("x", root + "/CelebA-HQ-img/\(i).jpg") }
        Fixtures.text("idx orig_idx orig_file\n0 119613 119614.jpg\n1 99094 099095.jpg\n2 200018 200019.jpg\n3 81058 081059.jpg\n", root + "/CelebA-HQ-to-CelebA-mapping.txt")
        Fixtures.text("119614.jpg 0\n099095.jpg 1\n200019.jpg 2\n", root + "/Eval/list_eval_partition.txt")
        let r = try scanDataset(.celebahq, root: root)
        XCTAssertEqual(r.items.map(\.split), ["train", "val", "test"])
        XCTAssertEqual(r.items.map(\.source), ["CelebA-HQ-img/0.jpg", "CelebA-HQ-img/1.jpg", "CelebA-HQ-img/2.jpg"])
        // 3.jpg maps to a CelebA file without a partition, 4.jpg is not in the mapping.
        XCTAssertEqual(Set(r.skipped.map(\.source)), ["CelebA-HQ-img/3.jpg", "CelebA-HQ-img/4.jpg"])

        // Without the partition file every image is "train".
        try FileManager.default.removeItem(atPath: root + "/Eval")
        let all = try scanDataset(.celebahq, root: root)
        XCTAssertEqual(all.items.count, 5)
        XCTAssertTrue(all.items.allSatisfy { $0.split == "train" })
    }

    func testAffectNetRowsBoxesAndBadFields() throws {
        let root = try makeTempDir(self, "affectnet")
        for n in ["a", "b", "c", "d", "e", "f"] { Fixtures.text("x", root + "/Manually_Annotated_Images/101/\(n).jpg") }
        let lm = (0..<136).map { "\($0).5" }.joined(separator: ";")
        let header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
        Fixtures.text(header
            + "101/a.jpg,10,12,100,101,\(lm),1,0.5,-0.25\n"          // Happiness
            + "101/b.jpg,0,0,50,50,\(lm),7,-2,-2\n"                  // Contempt: AffectNet-8 only
            + "101/c.jpg,0,0,50,50,\(lm),8,-2,-2\n"                  // None: never a class
            + "101/d.jpg,0,0,50,50,\(lm),11,0,0\n"                   // out of range
            + "101/e.jpg,zero,0,50,50,\(lm),2,0,0\n"                 // malformed box
            + "101/f.jpg,0,0,50,50\n"                                // missing fields
            + "101/missing.jpg,0,0,50,50,\(lm),3,0,0\n"              // path does not exist
            + "101/f.jpg,0,0,50,50,\(lm),happy,0,0\n"                // malformed expression
            + ",0,0,50,50,\(lm),3,0,0\n",                            // empty path
            root + "/Manually_Annotated_file_lists/training.csv")
        // validation.csv without a header row (as some copies are).
        Fixtures.text("\"101/f.jpg\",5,6,40,41,\"\(lm)\",6,0.1,0.2\n", root + "/Manually_Annotated_file_lists/validation.csv")

        let r7 = try scanDataset(.affectnet, root: root, options: ScanOptions(affectNetClasses: 7))
        XCTAssertEqual(r7.items.map(\.source), ["Manually_Annotated_Images/101/a.jpg", "Manually_Annotated_Images/101/f.jpg"])
        XCTAssertEqual(r7.items.map(\.split), ["train", "test"])
        XCTAssertEqual(r7.items.map(\.label), [1, 6])
        XCTAssertEqual(r7.items[0].box, FaceBox(x: 10, y: 12, width: 100, height: 101))
        XCTAssertEqual(r7.items[0].valence, 0.5); XCTAssertEqual(r7.items[0].arousal, -0.25)
        let reasons = r7.skipped.map { "\($0.source) | \($0.reason)" }.joined(separator: "\n")
        XCTAssertEqual(r7.skipped.count, 8, reasons)
        for fragment in ["(Contempt) is not a class of AffectNet-7", "(None) is not a class", "expression 11 is out of range",
                         "malformed face box", "expected 9 fields, got 5", "file does not exist", "malformed expression 'happy'",
                         "empty subDirectory_filePath"] {
            XCTAssertTrue(reasons.contains(fragment), "missing '\(fragment)' in\n\(reasons)")
        }
        let r8 = try scanDataset(.affectnet, root: root, options: ScanOptions(affectNetClasses: 8))
        XCTAssertEqual(r8.items.filter { $0.label == 7 }.map(\.source), ["Manually_Annotated_Images/101/b.jpg"])
        XCTAssertNil(r8.items.first { $0.label == 7 }?.valence, "-2 means not applicable")
        XCTAssertEqual(DatasetKind.affectnet.classNames(affectNetClasses: 8).last, "Contempt")
        XCTAssertThrowsError(try scanDataset(.affectnet, root: root, options: ScanOptions(affectNetClasses: 9)))
    }

    func testRAFDBOneBasedLabelsAndAlignedNames() throws {
        let root = try makeTempDir(self, "rafdb")
        let b = root + "/basic"
        for n in ["train_00001_aligned.jpg", "train_00002_aligned.jpg", "test_0001_aligned.jpg", "train_00004_aligned.jpg", "train_00005_aligned.jpg"] {
            Fixtures.text("x", b + "/Image/aligned/" + n)
        }
        Fixtures.text("x", b + "/Image/original/train_00001.jpg")
        Fixtures.text("train_00001.jpg 5\ntrain_00002.jpg 1\r\ntest_0001.jpg 7\ntrain_00003.jpg 2\ntrain_00004.jpg 0\ntrain_00005.jpg x\nbroken\n",
                      b + "/EmoLabel/list_patition_label.txt")
        let r = try scanDataset(.rafdb, root: root)
        XCTAssertEqual(r.items.map(\.source), ["basic/Image/aligned/train_00001_aligned.jpg", "basic/Image/aligned/train_00002_aligned.jpg",
                                               "basic/Image/aligned/test_0001_aligned.jpg"])
        XCTAssertEqual(r.items.map(\.label), [4, 0, 6], "RAF label - 1: Sadness, Surprise, Neutral")
        XCTAssertEqual(DatasetKind.rafdb.classNames()[4], "Sadness")
        let reasons = r.skipped.map(\.reason).joined(separator: "\n")
        XCTAssertTrue(reasons.contains("file does not exist"), reasons)  // train_00003
        XCTAssertTrue(reasons.contains("label 0 is out of range 1...7"), reasons)
        XCTAssertTrue(reasons.contains("malformed label 'x'"), reasons)
        XCTAssertTrue(reasons.contains("expected '<file> <label>'"), reasons)
        let orig = try scanDataset(.rafdb, root: root, options: ScanOptions(rafdbAligned: false))
        XCTAssertEqual(orig.items.map(\.source), ["basic/Image/original/train_00001.jpg"])
    }

    func testSFEWClassFolders() throws {
        let root = try makeTempDir(self, "sfew")
        Fixtures.text("x", root + "/Train/Angry/a.png")
        Fixtures.text("x", root + "/Train/happy/b.png")
        Fixtures.text("x", root + "/Val/Surprise/c.png")
        Fixtures.text("x", root + "/Val/Bored/d.png")
        Fixtures.text("x", root + "/Test/e.png")
        let r = try scanDataset(.sfew, root: root)
        XCTAssertEqual(r.items.map(\.source), ["Train/Angry/a.png", "Train/happy/b.png", "Val/Surprise/c.png"])
        XCTAssertEqual(r.items.map(\.label), [0, 3, 6])
        XCTAssertEqual(r.items.map(\.split), ["train", "train", "test"])
        XCTAssertEqual(r.skipped.map(\.source), ["Val/Bored/d.png"])
    }

    func testFolderAndMissingRoot() throws {
        let root = try makeTempDir(self, "folder")
        Fixtures.text("x", root + "/a/b/1.PNG")
        Fixtures.text("x", root + "/2.jpeg")
        Fixtures.text("x", root + "/.hidden.png")
        Fixtures.text("x", root + "/notes.txt")
        XCTAssertEqual(try scanDataset(.folder, root: root).items.map(\.source), ["2.jpeg", "a/b/1.PNG"])
        XCTAssertThrowsError(try scanDataset(.folder, root: root + "/nope")) { e in
            XCTAssertTrue("\(e)".contains(root + "/nope"), "\(e)")
        }
        XCTAssertThrowsError(try scanDataset(.rafdb, root: root)) { e in
            XCTAssertTrue("\(e)".contains("list_patition_label.txt"), "\(e)")
        }
    }

    func testCSVQuoting() {
        XCTAssertEqual(csvFields("a,\"b,c\",\"d\"\"e\",,f"), ["a", "b,c", "d\"e", "", "f"])
    }
}
