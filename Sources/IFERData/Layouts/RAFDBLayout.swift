import Foundation

/// RAF-DB basic: `[basic/]EmoLabel/list_patition_label.txt` (sic) with lines `<file> <label>`,
/// labels 1-based (1 Surprise .. 7 Neutral; class index = label - 1), images in
/// `Image/aligned/<stem>_aligned.jpg` (100x100 aligned faces) or `Image/original/<file>`.
/// The split comes from the name: `train_*` -> "train", `test_*` -> "test".
/// `aligned`: nil reads the aligned folder when it exists, else the original one.
func scanRAFDB(root: String, aligned: Bool?) throws -> ScanResult {
    let base = FileWalk.child(root, ["basic"], directory: true).map { root + "/" + $0 } ?? root
    let rel0 = base == root ? "" : String(base.dropFirst(root.count + 1)) + "/"
    guard let emo = FileWalk.child(base, ["EmoLabel"], directory: true),
          let labelName = FileWalk.child(base + "/" + emo, ["list_patition_label.txt", "list_partition_label.txt"], directory: false) else {
        throw DataError.missingFile(path: base + "/EmoLabel/list_patition_label.txt", detail: "RAF-DB label file not found")
    }
    let labelRel = rel0 + emo + "/" + labelName
    guard let imageName = FileWalk.child(base, ["Image"], directory: true) else {
        throw DataError.missingFile(path: base + "/Image", detail: "RAF-DB image folder not found")
    }
    let alignedDir = FileWalk.child(base + "/" + imageName, ["aligned"], directory: true)
    let originalDir = FileWalk.child(base + "/" + imageName, ["original"], directory: true)
    let useAligned = aligned ?? (alignedDir != nil)
    guard let dir = useAligned ? alignedDir : originalDir else {
        throw DataError.missingFile(path: base + "/" + imageName + (useAligned ? "/aligned" : "/original"), detail: "RAF-DB image folder not found")
    }
    let imageRel = rel0 + imageName + "/" + dir + "/"

    var result = ScanResult()
    for (n, line) in FileWalk.lines(try FileWalk.readText(root + "/" + labelRel)) {
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let where_ = "\(labelName) line \(n)"
        guard f.count >= 2 else {
            result.skipped.append(SkippedSource(source: where_, reason: "expected '<file> <label>', got '\(line)'"))
            continue
        }
        let name = f[0]
        let stem = (name as NSString).deletingPathExtension
        let file = useAligned ? stem + "_aligned." + (name as NSString).pathExtension : name
        let source = imageRel + file
        guard let raf = Int(f[1]) else {
            result.skipped.append(SkippedSource(source: source, reason: "\(where_): malformed label '\(f[1])'"))
            continue
        }
        guard (1...7).contains(raf) else {
            result.skipped.append(SkippedSource(source: source, reason: "\(where_): label \(raf) is out of range 1...7"))
            continue
        }
        let split: String
        if name.hasPrefix("train") { split = "train" } else if name.hasPrefix("test") { split = "test" } else {
            result.skipped.append(SkippedSource(source: source, reason: "\(where_): name starts with neither train nor test"))
            continue
        }
        guard FileWalk.isFile(root + "/" + source) else {
            result.skipped.append(SkippedSource(source: source, reason: "\(where_): file does not exist"))
            continue
        }
        result.items.append(SourceItem(source: source, split: split, label: raf - 1))
    }
    return result
}
