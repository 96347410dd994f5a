import Foundation

/// FFHQ: `images1024x1024/00000.png ... 69999.png`, flat or in subfolders of 1,000
/// (`images1024x1024/00000/00000.png`); any `images<R>x<R>/` folder is accepted, then
/// `thumbnails128x128/`, then PNGs directly under the root. Unlabeled.
/// Split: the `category` of each image in `ffhq-dataset-v2.json` when that file is present
/// ("training" -> "train", "validation" -> "test"); otherwise the official rule, images
/// 0-59,999 "train" and 60,000-69,999 "test". A name that is not a number goes to "train".
func scanFFHQ(root: String) throws -> ScanResult {
    let dirs = FileWalk.list(root).filter { FileWalk.isDirectory(root + "/" + $0) }
    let sub = dirs.first(where: { isImagesFolder($0) }) ?? dirs.first(where: { $0.lowercased() == "thumbnails128x128" })
    let base = sub.map { root + "/" + $0 } ?? root
    let prefix = sub.map { $0 + "/" } ?? ""
    var categories: [Int: String] = [:]
    if let json = FileWalk.child(root, ["ffhq-dataset-v2.json"], directory: false) {
        categories = try ffhqCategories(root + "/" + json)
    }
    var result = ScanResult()
    for rel in FileWalk.images(under: base) {
        let stem = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
        let index = Int(stem)
        let split: String
        if let i = index, let c = categories[i] {
            split = c == "validation" ? "test" : "train"
        } else {
            split = (index.map { $0 >= 60_000 } ?? false) ? "test" : "train"
        }
        result.items.append(SourceItem(source: prefix + rel, split: split))
    }
    return result
}

/// "images1024x1024", "images256x256", ...
private func isImagesFolder(_ name: String) -> Bool {
    guard name.hasPrefix("images") else { return false }
    let dims = name.dropFirst(6).split(separator: "x")
    return dims.count == 2 && dims.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
}

/// Image index -> category from ffhq-dataset-v2.json. The real file is about 255 MB, so instead of
/// building a JSON object tree it is scanned once: each entry's `"category"` value is paired with
/// the first `"file_path"` after it (the entry's `image` path; thumbnails and in-the-wild paths
/// come later in the entry and end in the same number).
func ffhqCategories(_ path: String) throws -> [Int: String] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw DataError.missingFile(path: path, detail: "cannot read FFHQ metadata")
    }
    let bytes = [UInt8](data)
    let catKey = Array("\"category\"".utf8), fileKey = Array("\"file_path\"".utf8)
    var out: [Int: String] = [:]
    var i = 0
    var pending: String? = nil

    func matches(_ key: [UInt8], at p: Int) -> Bool {
        guard p + key.count <= bytes.count else { return false }
        for k in 0..<key.count where bytes[p + k] != key[k] { return false }
        return true
    }
    /// The string value after a key ending at p: skips ':' and spaces, reads "...".
    func stringValue(from p: Int) -> (String, Int)? {
        var q = p
        while q < bytes.count, bytes[q] == UInt8(ascii: " ") || bytes[q] == UInt8(ascii: ":") || bytes[q] == UInt8(ascii: "\n")
                || bytes[q] == UInt8(ascii: "\t") || bytes[q] == UInt8(ascii: "\r") { q += 1 }
        guard q < bytes.count, bytes[q] == UInt8(ascii: "\"") else { return nil }
        var e = q + 1
        while e < bytes.count, bytes[e] != UInt8(ascii: "\"") { e += bytes[e] == UInt8(ascii: "\\") ? 2 : 1 }
        guard e <= bytes.count else { return nil }
        return (String(decoding: bytes[(q + 1)..<min(e, bytes.count)], as: UTF8.self), e + 1)
    }
    while i < bytes.count {
        if bytes[i] != UInt8(ascii: "\"") { i += 1; continue }
        if matches(catKey, at: i), let (v, next) = stringValue(from: i + catKey.count) {
            pending = v; i = next; continue
        }
        if matches(fileKey, at: i), let (v, next) = stringValue(from: i + fileKey.count) {
            if let c = pending {
                let stem = ((v as NSString).lastPathComponent as NSString).deletingPathExtension
                if let idx = Int(stem) { out[idx] = c }
                pending = nil
            }
            i = next; continue
        }
        i += 1
    }
    return out
}

/// A plain folder of images (any depth), unlabeled, all in "train".
func scanFolder(root: String) throws -> ScanResult {
    ScanResult(items: FileWalk.images(under: root).map { SourceItem(source: $0, split: "train") })
}
