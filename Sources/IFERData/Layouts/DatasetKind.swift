import Foundation

/// The dataset layouts `ifer shard` reads (reference/ifer-method.md section 8), with each one's
/// canonical class order and split names.
public enum DatasetKind: String, CaseIterable, Codable, Sendable {
    case ffhq, celebahq, affectnet, rafdb, sfew, folder

    /// Class names in the dataset's own canonical order (label i is classNames[i]).
    /// `affectNetClasses` is 7 or 8 (AffectNet-8 adds Contempt).
    public func classNames(affectNetClasses: Int = 7) -> [String] {
        switch self {
        case .ffhq, .celebahq, .folder:
            return []
        case .affectnet:
            // AffectNet expression ids 0..7; 8 None, 9 Uncertain, 10 No-Face are never classes.
            let all = ["Neutral", "Happiness", "Sadness", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]
            return Array(all.prefix(affectNetClasses))
        case .rafdb:
            // RAF-DB basic labels 1..7 map to index label - 1.
            return ["Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"]
        case .sfew:
            // Alphabetical folder order, as timm's ImageFolder sees it.
            return ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
        }
    }

    /// The splits this layout can produce, in manifest order.
    public var splits: [String] {
        switch self {
        case .ffhq: return ["train", "test"]
        case .celebahq: return ["train", "val", "test"]
        case .affectnet, .rafdb, .sfew: return ["train", "test"]
        case .folder: return ["train"]
        }
    }
}

/// Options a scan needs besides the root.
public struct ScanOptions: Sendable {
    /// AffectNet: 7 (ids 0-6) or 8 (ids 0-7) classes.
    public var affectNetClasses: Int = 7
    /// RAF-DB: read `Image/aligned` (100x100 faces) or `Image/original`; nil picks aligned when present.
    public var rafdbAligned: Bool? = nil
    public init(affectNetClasses: Int = 7, rafdbAligned: Bool? = nil) {
        self.affectNetClasses = affectNetClasses
        self.rafdbAligned = rafdbAligned
    }
}

/// Scans `root` with the layout of `kind`. Items come back sorted by (split, source) so the
/// shard plan is the same on every run and for every world size.
public func scanDataset(_ kind: DatasetKind, root: String, options: ScanOptions = ScanOptions()) throws -> ScanResult {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
        throw DataError.missingRoot(root)
    }
    var result: ScanResult
    switch kind {
    case .ffhq: result = try scanFFHQ(root: root)
    case .celebahq: result = try scanCelebAHQ(root: root)
    case .affectnet: result = try scanAffectNet(root: root, classes: options.affectNetClasses)
    case .rafdb: result = try scanRAFDB(root: root, aligned: options.rafdbAligned)
    case .sfew: result = try scanSFEW(root: root)
    case .folder: result = try scanFolder(root: root)
    }
    let splitOrder = Dictionary(uniqueKeysWithValues: kind.splits.enumerated().map { ($1, $0) })
    result.items.sort {
        let a = splitOrder[$0.split] ?? 99, b = splitOrder[$1.split] ?? 99
        return a != b ? a < b : $0.source < $1.source
    }
    return result
}
