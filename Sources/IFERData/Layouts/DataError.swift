import Foundation

/// Errors of the data layer. Every message names the file, dataset or argument at fault.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// The dataset root (or a file the layout needs) does not exist.
    case missingRoot(String)
    /// A file the layout needs (label file, CSV) is missing or unreadable.
    case missingFile(path: String, detail: String)
    /// Scanning found no usable image.
    case emptyDataset(String)
    case badArgument(String)
    /// A manifest or shard that cannot be used; `path` names the file.
    case badShard(path: String, detail: String)
    /// A shard whose SHA-256 does not match the manifest.
    case checksum(path: String, expected: String, actual: String)
    /// Another rank failed; the message says which.
    case remote(String)

    public var description: String {
        switch self {
        case let .missingRoot(p): return "dataset root does not exist: \(p)"
        case let .missingFile(p, d): return "\(p): \(d)"
        case let .emptyDataset(s): return "empty dataset: \(s)"
        case let .badArgument(s): return s
        case let .badShard(p, d): return "\(p): \(d)"
        case let .checksum(p, e, a): return "\(p): SHA-256 mismatch (manifest says \(e), file has \(a)); the shard is corrupt or was changed"
        case let .remote(s): return s
        }
    }
}
