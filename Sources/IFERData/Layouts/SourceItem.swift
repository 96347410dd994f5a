import Foundation

/// A face box in source-image pixels (AffectNet's face_x, face_y, face_width, face_height).
public struct FaceBox: Codable, Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

/// One source image a layout scanner found: where it is, which split it belongs to, and its
/// annotations already mapped to the dataset's canonical class order.
public struct SourceItem: Codable, Equatable, Sendable {
    /// Path relative to the dataset root (this is what `/source` in a shard stores).
    public var source: String
    public var split: String
    /// Class index in the canonical order, or -1 where unlabeled.
    public var label: Int
    /// AffectNet valence and arousal; nil where absent (stored as NaN in shards).
    public var valence: Float?
    public var arousal: Float?
    /// Crop box applied before resizing (AffectNet), or nil for the whole image.
    public var box: FaceBox?

    public init(source: String, split: String, label: Int = -1, valence: Float? = nil, arousal: Float? = nil, box: FaceBox? = nil) {
        self.source = source; self.split = split; self.label = label
        self.valence = valence; self.arousal = arousal; self.box = box
    }
}

/// A source left out of the shards, with the reason (listed in the manifest).
public struct SkippedSource: Codable, Equatable, Sendable {
    public var source: String
    public var reason: String
    public init(source: String, reason: String) { self.source = source; self.reason = reason }
}

/// What a layout scan returns: the usable items (in a deterministic order) and what it skipped.
public struct ScanResult: Sendable {
    public var items: [SourceItem]
    public var skipped: [SkippedSource]
    public init(items: [SourceItem] = [], skipped: [SkippedSource] = []) {
        self.items = items; self.skipped = skipped
    }
}
