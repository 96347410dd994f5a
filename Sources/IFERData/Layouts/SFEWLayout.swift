import Foundation

/// SFEW 2.0: `Train/<Class>/*.png` -> "train", `Val/<Class>/*.png` -> "test" (test labels are
/// withheld, so papers report Val; the unlabeled `Test/` folder is not read). Classes in
/// alphabetical folder order: Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise (folder names
/// match case-insensitively). Images in an unknown class folder are left out and listed.
func scanSFEW(root: String) throws -> ScanResult {
    let classes = DatasetKind.sfew.classNames()
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1.lowercased(), $0) })
    var result = ScanResult()
    var found = false
    for (folder, split) in [("Train", "train"), ("Val", "test")] {
        guard let dir = FileWalk.child(root, [folder], directory: true) else { continue }
        found = true
        for cls in FileWalk.list(root + "/" + dir) where FileWalk.isDirectory(root + "/" + dir + "/" + cls) {
            let label = index[cls.lowercased()]
            for rel in FileWalk.images(under: root + "/" + dir + "/" + cls) {
                let source = dir + "/" + cls + "/" + rel
                if let label {
                    result.items.append(SourceItem(source: source, split: split, label: label))
                } else {
                    result.skipped.append(SkippedSource(source: source, reason: "unknown class folder '\(cls)' (expected one of \(classes.joined(separator: ", ")))"))
                }
            }
        }
    }
    guard found else {
        throw DataError.missingFile(path: root + "/Train", detail: "SFEW needs Train/<Class>/ and/or Val/<Class>/ folders")
    }
    return result
}
