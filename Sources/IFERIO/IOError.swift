import Foundation

// IOError: every failure in the file-format layer names the file and, where there is one, the key
// (dataset, attribute or group path) so a user can find the bad input without a debugger.

/// A file-format error: `path` is the file, `key` the dataset/attribute/group inside it (or nil).
public struct IOError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let path: String
    public let key: String?
    public let message: String

    public init(path: String, key: String? = nil, _ message: String) {
        self.path = path
        self.key = key
        self.message = message
    }

    public var description: String {
        if let key { return "\(path): \(key): \(message)" }
        return "\(path): \(message)"
    }

    /// So `error.localizedDescription` carries the file and key too.
    public var errorDescription: String? { description }
}
