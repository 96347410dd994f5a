import Foundation

/// FFHQ: `images1024x1024/00000.png ... 69999.png`, flat or in subfolders of 1,000
/// (`images1024x1024/00000/00000.png`); `thumbnails128x128/` is accepted when the full-size folder
/// is absent, and so is a root that holds the PNGs directly. Unlabeled. The official split puts
/// images 0-59,999 in "train" and 60,000-69,999 ("validation") in "test"; a name that is not a
/// number goes to "train".
func scanFFHQ(root: String) throws -> ScanResult {
    let sub = FileWalk.child(root, ["images1024x1024", "thumbnails128x128"], directory: true)
    let base = sub.map { root + "/" + $0 } ?? root
    let prefix = sub.map { $0 + "/" } ?? ""
    var result = ScanResult()
    for rel in FileWalk.images(under: base) {
        let stem = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
        let split = (Int(stem).map { $0 >= 60_000 } ?? false) ? "test" : "train"
        result.items.append(SourceItem(source: prefix + rel, split: split))
    }
    return result
}

/// A plain folder of images (any depth), unlabeled, all in "train".
func scanFolder(root: String) throws -> ScanResult {
    ScanResult(items: FileWalk.images(under: root).map { SourceItem(source: $0, split: "train") })
}
