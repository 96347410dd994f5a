import Foundation

/// CelebA-HQ as distributed with CelebAMask-HQ: `CelebA-HQ-img/<idx>.jpg` (idx 0..29999),
/// `CelebA-HQ-to-CelebA-mapping.txt` (columns `idx orig_idx orig_file`, header line first) and
/// CelebA's `list_eval_partition.txt` (`<orig_file> <0|1|2>`: train, val, test), found at the
/// root or under `Eval/`. The split of a CelebA-HQ image is the partition of its CelebA original
/// (24,183 / 2,993 / 2,824). Without the partition file (or the mapping) every image goes to
/// "train". Unlabeled.
func scanCelebAHQ(root: String) throws -> ScanResult {
    guard let imgDir = FileWalk.child(root, ["CelebA-HQ-img"], directory: true) else {
        throw DataError.missingFile(path: root + "/CelebA-HQ-img", detail: "CelebA-HQ image folder not found")
    }
    var result = ScanResult()

    // idx -> CelebA original file number (orig_file "119614.jpg" -> 119614).
    var origOf: [Int: Int] = [:]
    var partitionOf: [Int: Int] = [:]
    let mappingName = FileWalk.child(root, ["CelebA-HQ-to-CelebA-mapping.txt"], directory: false)
    let partitionPath: String? = {
        if let p = FileWalk.child(root, ["list_eval_partition.txt"], directory: false) { return root + "/" + p }
        if let e = FileWalk.child(root, ["Eval"], directory: true),
           let p = FileWalk.child(root + "/" + e, ["list_eval_partition.txt"], directory: false) { return root + "/" + e + "/" + p }
        return nil
    }()
    if let m = mappingName, let pp = partitionPath {
        let mpath = root + "/" + m
        for (n, line) in FileWalk.lines(try FileWalk.readText(mpath)) {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if f.count >= 3, let idx = Int(f[0]), let orig = Int((String(f[2]) as NSString).deletingPathExtension) {
                origOf[idx] = orig
            } else if n != 1 || !(f.first.map { $0 == "idx" } ?? false) {
                result.skipped.append(SkippedSource(source: m, reason: "line \(n): expected 'idx orig_idx orig_file', got '\(line)'"))
            }
        }
        for (n, line) in FileWalk.lines(try FileWalk.readText(pp)) {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if f.count >= 2, let orig = Int((String(f[0]) as NSString).deletingPathExtension), let part = Int(f[1]), (0...2).contains(part) {
                partitionOf[orig] = part
            } else {
                let rel = String(pp.dropFirst(root.count + 1))
                result.skipped.append(SkippedSource(source: rel, reason: "line \(n): expected '<file> <0|1|2>', got '\(line)'"))
            }
        }
    }
    let usePartition = !origOf.isEmpty && !partitionOf.isEmpty
    let splits = ["train", "val", "test"]
    for rel in FileWalk.images(under: root + "/" + imgDir) {
        let source = imgDir + "/" + rel
        let stem = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
        if !usePartition {
            result.items.append(SourceItem(source: source, split: "train"))
            continue
        }
        guard let idx = Int(stem), let orig = origOf[idx] else {
            result.skipped.append(SkippedSource(source: source, reason: "not in CelebA-HQ-to-CelebA-mapping.txt"))
            continue
        }
        guard let part = partitionOf[orig] else {
            result.skipped.append(SkippedSource(source: source, reason: "CelebA original \(orig) not in list_eval_partition.txt"))
            continue
        }
        result.items.append(SourceItem(source: source, split: splits[part]))
    }
    return result
}
