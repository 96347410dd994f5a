import Foundation

/// One mapping of a config, read strictly. Every getter names the full key path in its errors,
/// checks the value's type and, where given, its range; the section remembers which keys were
/// read, so `finish()` rejects every other key (a typo) and lists the allowed ones. A section is
/// thus defined by the reads in one initializer: no separate schema, ranges stated once.
///
///     let root = try ConfigSection(contentsOf: "run.yaml")
///     let t = try root.section("train")
///     let steps = try t.int("steps", default: 1000, in: 1...Int.max)
///     try t.finish()
public final class ConfigSection {
    /// Dotted path of this mapping from the document root ("" for the root).
    public let path: String
    /// The mapping's entries in file order.
    public let entries: [(String, ConfigValue)]
    private var readKeys: [String] = []

    /// `value` must be a mapping (nil, or a null scalar, is an empty one).
    public init(_ value: ConfigValue?, path: String) throws {
        self.path = path
        switch value {
        case nil: entries = []
        case let .map(m)?: entries = m
        case let .scalar(s)? where ConfigSection.isNull(s): entries = []
        case let other?: throw ConfigError.badType(path: path, expected: "a mapping (key: value lines)", found: other.yaml())
        }
    }

    /// The root of a YAML document (through the one reader, `ConfigValue.parse`).
    public convenience init(yaml text: String, file: String = "<config>") throws {
        try self.init(try ConfigValue.parse(text, source: file), path: "")
    }

    public convenience init(contentsOf file: String) throws {
        try self.init(yaml: try ConfigValue.read(file: file), file: file)
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    public var keys: [String] { entries.map(\.0) }

    /// Whether `key` is present with a value (a null value counts as absent).
    public func has(_ key: String) -> Bool {
        guard let v = entries.first(where: { $0.0 == key })?.1 else { return false }
        if case let .scalar(s) = v { return !ConfigSection.isNull(s) }
        return true
    }

    /// The raw value of `key` (marking it read), nil when absent or null.
    public func value(_ key: String) -> ConfigValue? {
        if !readKeys.contains(key) { readKeys.append(key) }
        return has(key) ? entries.first { $0.0 == key }?.1 : nil
    }

    static func isNull(_ s: String) -> Bool { s == "null" || s == "~" || s == "Null" || s == "NULL" }

    // MARK: typed getters

    /// A nested mapping; a missing key (or `key: null`) gives an empty mapping.
    public func section(_ key: String) throws -> ConfigSection {
        try ConfigSection(value(key), path: keyPath(key))
    }

    /// A plain scalar (a number or a boolean must not be quoted: `"3"` and `"yes"` are strings).
    private func scalar(_ key: String, _ expected: String) throws -> String? {
        switch value(key) {
        case nil: return nil
        case let .scalar(s)?: return s
        case let .quoted(s)?: throw ConfigError.badType(path: keyPath(key), expected: expected, found: "\"\(s)\" (a quoted string)")
        case let other?: throw ConfigError.badType(path: keyPath(key), expected: "a single value", found: other.yaml())
        }
    }

    public func int(_ key: String, default def: Int? = nil, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard let s = try scalar(key, "an integer") else { return try missing(key, def) }
        guard let v = Int(s) else { throw ConfigError.badType(path: keyPath(key), expected: "an integer", found: s) }
        try check(v, range, key)
        return v
    }

    public func float(_ key: String, default def: Float? = nil, in range: ClosedRange<Float>? = nil) throws -> Float {
        guard let s = try scalar(key, "a number") else { return try missing(key, def) }
        guard let v = Float(s), v.isFinite else { throw ConfigError.badType(path: keyPath(key), expected: "a number", found: s) }
        try check(v, range, key)
        return v
    }

    public func bool(_ key: String, default def: Bool? = nil) throws -> Bool {
        guard let s = try scalar(key, "true or false") else { return try missing(key, def) }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigError.badType(path: keyPath(key), expected: "true or false", found: s)
        }
    }

    public func string(_ key: String, default def: String? = nil) throws -> String {
        switch value(key) {
        case nil: return try missing(key, def)
        case let .scalar(s)?, let .quoted(s)?: return s
        case let other?: throw ConfigError.badType(path: keyPath(key), expected: "a single value", found: other.yaml())
        }
    }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], default def: String? = nil) throws -> String {
        let s = try string(key, default: def)
        guard choices.contains(s) else {
            throw ConfigError(path: keyPath(key), "'\(s)' is not one of: \(choices.joined(separator: ", "))")
        }
        return s
    }

    public func floatList(_ key: String, default def: [Float]? = nil, in range: ClosedRange<Float>? = nil) throws -> [Float] {
        try list(key, def, "numbers") { s, at in
            guard let v = Float(s), v.isFinite else { throw ConfigError.badType(path: at, expected: "a number", found: s) }
            if let range, !range.contains(v) { throw ConfigError(path: at, "must be \(ConfigSection.describe(range)), found \(v)") }
            return v
        }
    }

    public func intList(_ key: String, default def: [Int]? = nil, in range: ClosedRange<Int>? = nil) throws -> [Int] {
        try list(key, def, "integers") { s, at in
            guard let v = Int(s) else { throw ConfigError.badType(path: at, expected: "an integer", found: s) }
            if let range, !range.contains(v) { throw ConfigError(path: at, "must be \(ConfigSection.describe(range)), found \(v)") }
            return v
        }
    }

    private func list<T>(_ key: String, _ def: [T]?, _ what: String, _ element: (String, String) throws -> T) throws -> [T] {
        switch value(key) {
        case nil: return try missing(key, def)
        case let .list(items)?:
            return try items.enumerated().map { i, item in
                let at = keyPath(key) + "[\(i)]"
                guard case let .scalar(s) = item else { throw ConfigError.badType(path: at, expected: "a single value", found: item.yaml()) }
                return try element(s, at)
            }
        case let other?: throw ConfigError.badType(path: keyPath(key), expected: "a list of \(what)", found: other.yaml())
        }
    }

    // MARK: checks

    /// Throws unless `condition` holds, naming `key`.
    public func require(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConfigError(path: keyPath(key), message()) }
    }

    /// Throws on the first present key (in file order) that is not in `allowed`.
    public func expectKeys(_ allowed: [String]) throws {
        for k in keys where !allowed.contains(k) { throw ConfigError.unknownKey(path: keyPath(k), allowed: allowed) }
    }

    /// Rejects keys that are present but were never read.
    public func finish() throws { try expectKeys(readKeys) }

    private func check<T: Comparable>(_ v: T, _ range: ClosedRange<T>?, _ key: String) throws {
        if let range, !range.contains(v) { throw ConfigError(path: keyPath(key), "must be \(ConfigSection.describe(range)), found \(v)") }
    }

    static func describe<T: Comparable>(_ r: ClosedRange<T>) -> String {
        if let i = r.upperBound as? Int, i == Int.max { return ">= \(r.lowerBound)" }
        if let f = r.upperBound as? Float, f == .greatestFiniteMagnitude { return ">= \(r.lowerBound)" }
        return "in [\(r.lowerBound), \(r.upperBound)]"
    }

    private func missing<T>(_ key: String, _ def: T?) throws -> T {
        if let def { return def }
        throw ConfigError(path: keyPath(key), "required key is missing")
    }
}
