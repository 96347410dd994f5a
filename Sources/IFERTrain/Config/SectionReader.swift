/// Reads one config section with typed getters and defaults, remembering which keys it read;
/// `finish()` rejects every key it did not read, naming the full key path and the allowed keys.
/// A section is thus defined by the reads in its `init(reading:)` — one place, no separate schema.
public final class SectionReader {
    public let path: String
    let entries: [(String, ConfigValue)]
    private(set) var known: [String] = []

    public init(_ value: ConfigValue?, path: String) throws {
        self.path = path
        switch value {
        case nil: entries = []
        case let .map(m)?: entries = m
        case let other?: throw ConfigError.badType(path: path, expected: "a section (key: value lines)", found: other.yaml())
        }
    }

    func full(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func raw(_ key: String) -> ConfigValue? {
        if !known.contains(key) { known.append(key) }
        return entries.first { $0.0 == key }?.1
    }

    func scalar(_ key: String) throws -> String? {
        switch raw(key) {
        case nil: return nil
        case let .scalar(s)?: return s
        case let other?: throw ConfigError.badType(path: full(key), expected: "a single value", found: other.yaml())
        }
    }

    public func int(_ key: String, _ def: Int) throws -> Int {
        guard let s = try scalar(key) else { return def }
        guard let v = Int(s) else { throw ConfigError.badType(path: full(key), expected: "an integer", found: s) }
        return v
    }

    public func float(_ key: String, _ def: Float) throws -> Float {
        guard let s = try scalar(key) else { return def }
        guard let v = Float(s), v.isFinite else { throw ConfigError.badType(path: full(key), expected: "a number", found: s) }
        return v
    }

    public func bool(_ key: String, _ def: Bool) throws -> Bool {
        guard let s = try scalar(key) else { return def }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigError.badType(path: full(key), expected: "true or false", found: s)
        }
    }

    public func string(_ key: String, _ def: String) throws -> String { try scalar(key) ?? def }

    public func choice(_ key: String, _ def: String, _ allowed: [String]) throws -> String {
        let v = try string(key, def)
        guard allowed.contains(v) else {
            throw ConfigError.badValue(path: full(key), detail: "'\(v)' is not one of \(allowed.joined(separator: ", "))")
        }
        return v
    }

    public func floats(_ key: String, _ def: [Float]) throws -> [Float] {
        switch raw(key) {
        case nil: return def
        case let .list(items)?:
            return try items.map {
                guard case let .scalar(s) = $0, let v = Float(s) else {
                    throw ConfigError.badType(path: full(key), expected: "a list of numbers", found: $0.yaml())
                }
                return v
            }
        case let other?: throw ConfigError.badType(path: full(key), expected: "a list of numbers", found: other.yaml())
        }
    }

    public func ints(_ key: String, _ def: [Int]) throws -> [Int] {
        try floats(key, def.map(Float.init)).map { Int($0) }
    }

    /// Rejects keys that were present but never read.
    public func finish() throws {
        for (k, _) in entries where !known.contains(k) {
            throw ConfigError.unknownKey(path: full(k), allowed: known)
        }
    }
}
