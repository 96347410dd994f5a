import Foundation

/// AffectNet, manually annotated part: images under `Manually_Annotated_Images/<subdir>/<hash>.jpg`
/// and two CSVs, `training.csv` ("train") and `validation.csv` ("test": the validation set is the
/// test set), at the root or under `Manually_Annotated_file_lists/`. Columns:
/// `subDirectory_filePath, face_x, face_y, face_width, face_height, facial_landmarks, expression,
/// valence, arousal`. The header row is optional (some copies of validation.csv have none).
/// Expression ids 0..6 (AffectNet-7) or 0..7 (AffectNet-8) are the classes in AffectNet's own
/// order; 7 (in AffectNet-7), 8 None, 9 Uncertain and 10 No-Face rows are left out and listed.
/// Valence/arousal of -2 (AffectNet's "not applicable") become absent.
func scanAffectNet(root: String, classes: Int) throws -> ScanResult {
    guard classes == 7 || classes == 8 else {
        throw DataError.badArgument("AffectNet has 7 or 8 classes, not \(classes)")
    }
    let listDir: String = FileWalk.child(root, ["Manually_Annotated_file_lists"], directory: true).map { root + "/" + $0 } ?? root
    let imageDir = FileWalk.child(root, ["Manually_Annotated_Images"], directory: true)
    let csvs: [(String, String)] = [("training.csv", "train"), ("validation.csv", "test")].compactMap { name, split in
        if let n = FileWalk.child(listDir, [name], directory: false) { return (listDir + "/" + n, split) }
        if let n = FileWalk.child(root, [name], directory: false) { return (root + "/" + n, split) }
        return nil
    }
    guard !csvs.isEmpty else {
        throw DataError.missingFile(path: root + "/training.csv", detail: "AffectNet needs training.csv and/or validation.csv (at the root or in Manually_Annotated_file_lists/)")
    }
    let names = ["Neutral", "Happiness", "Sadness", "Surprise", "Fear", "Disgust", "Anger", "Contempt", "None", "Uncertain", "No-Face"]
    var result = ScanResult()
    var seen = Set<String>()
    for (csvPath, split) in csvs {
        let csvName = (csvPath as NSString).lastPathComponent
        for (n, line) in FileWalk.lines(try FileWalk.readText(csvPath)) {
            let f = csvFields(line).map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 1, f.first?.lowercased() == "subdirectory_filepath" { continue }  // header
            let rowName = "\(csvName) line \(n)"
            func skip(_ source: String?, _ reason: String) {
                result.skipped.append(SkippedSource(source: source ?? rowName, reason: source == nil ? reason : "\(rowName): \(reason)"))
            }
            guard f.count >= 9 else {
                skip(nil, "expected 9 fields, got \(f.count)")
                continue
            }
            guard !f[0].isEmpty else { skip(nil, "empty subDirectory_filePath"); continue }
            let source = (imageDir.map { $0 + "/" } ?? "") + f[0]
            func int(_ s: String) -> Int? { Int(s) ?? Double(s).flatMap { $0.isFinite && $0 == $0.rounded() ? Int($0) : nil } }
            guard let x = int(f[1]), let y = int(f[2]), let w = int(f[3]), let h = int(f[4]) else {
                skip(source, "malformed face box '\(f[1]),\(f[2]),\(f[3]),\(f[4])'")
                continue
            }
            guard x >= 0, y >= 0, w > 0, h > 0 else {
                skip(source, "face box x=\(x) y=\(y) w=\(w) h=\(h) is empty or negative")
                continue
            }
            guard let expr = Int(f[6]) else { skip(source, "malformed expression '\(f[6])'"); continue }
            guard (0...10).contains(expr) else { skip(source, "expression \(expr) is out of range 0...10"); continue }
            guard expr < classes else {
                skip(source, "expression \(expr) (\(names[expr])) is not a class of AffectNet-\(classes)")
                continue
            }
            guard let v = Float(f[7]), let a = Float(f[8]), v.isFinite, a.isFinite else {
                skip(source, "malformed valence/arousal '\(f[7])', '\(f[8])'")
                continue
            }
            guard FileWalk.isFile(root + "/" + source) else { skip(source, "file does not exist"); continue }
            guard seen.insert(source).inserted else { skip(source, "listed twice"); continue }
            result.items.append(SourceItem(source: source, split: split, label: expr,
                                           valence: v == -2 ? nil : v, arousal: a == -2 ? nil : a,
                                           box: FaceBox(x: x, y: y, width: w, height: h)))
        }
    }
    return result
}
