import Foundation
import Yams

/// A config mistake: names the key path ("model.generator.size") and what is wrong with it.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { path.isEmpty ? "config: \(message)" : "config key '\(path)': \(message)" }
}

/// One mapping of a YAML config, read strictly: every accessor names the full key path in its
/// errors, `expectKeys` rejects unknown keys (typos) and lists the allowed ones, and a value of
/// the wrong type is an error rather than a silent default.
///
///     let s = try ConfigSection(yaml: text, file: "run.yaml").section("model")
///     try s.expectKeys(["generator", "encoder"])
///     let size = try s.section("generator").int("size", default: 256)
public struct ConfigSection {
    /// Dotted path of this mapping from the document root ("" for the root).
    public let path: String
    /// The raw values of this mapping.
    public let values: [String: Any]

    public init(path: String = "", values: [String: Any] = [:]) {
        self.path = path
        self.values = values
    }

    /// Parses a YAML document whose root is a mapping (an empty document is an empty mapping).
    public init(yaml text: String, file: String = "<config>") throws {
        let doc: Any?
        do { doc = try Yams.load(yaml: text) } catch {
            throw ConfigError(path: "", "\(file): not valid YAML: \(error)")
        }
        guard let doc else { self.init(); return }
        guard let map = doc as? [String: Any] else {
            throw ConfigError(path: "", "\(file): the top level must be a mapping of sections, got \(ConfigSection.typeName(doc))")
        }
        self.init(path: "", values: map)
    }

    public init(contentsOf file: String) throws {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError(path: "", "cannot read config file \(file): \(error.localizedDescription)")
        }
        try self.init(yaml: text, file: file)
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    public func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// Throws on the first key (in sorted order) that is not in `allowed`.
    public func expectKeys(_ allowed: [String]) throws {
        for k in values.keys.sorted() where !allowed.contains(k) {
            throw ConfigError(path: keyPath(k), "unknown key; allowed keys here: \(allowed.joined(separator: ", "))")
        }
    }

    /// A nested mapping; a missing key (or `key: null`) gives an empty mapping.
    public func section(_ key: String) throws -> ConfigSection {
        guard has(key) else { return ConfigSection(path: keyPath(key)) }
        guard let m = values[key] as? [String: Any] else {
            throw ConfigError(path: keyPath(key), "expected a mapping, got \(describe(values[key]!))")
        }
        return ConfigSection(path: keyPath(key), values: m)
    }

    public func int(_ key: String, default def: Int? = nil) throws -> Int {
        guard has(key) else { return try missing(key, def) }
        let v = values[key]!
        if let i = v as? Int, !(v is Bool) { return i }
        if let d = v as? Double, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        throw ConfigError(path: keyPath(key), "expected an integer, got \(describe(v))")
    }

    public func float(_ key: String, default def: Float? = nil) throws -> Float {
        guard has(key) else { return try missing(key, def) }
        let v = values[key]!
        if v is Bool { throw ConfigError(path: keyPath(key), "expected a number, got \(describe(v))") }
        if let i = v as? Int { return Float(i) }
        if let d = v as? Double { return Float(d) }
        throw ConfigError(path: keyPath(key), "expected a number, got \(describe(v))")
    }

    public func bool(_ key: String, default def: Bool? = nil) throws -> Bool {
        guard has(key) else { return try missing(key, def) }
        if let b = values[key]! as? Bool { return b }
        throw ConfigError(path: keyPath(key), "expected true or false, got \(describe(values[key]!))")
    }

    public func string(_ key: String, default def: String? = nil) throws -> String {
        guard has(key) else { return try missing(key, def) }
        if let s = values[key]! as? String { return s }
        throw ConfigError(path: keyPath(key), "expected a string, got \(describe(values[key]!))")
    }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, _ choices: [String], default def: String? = nil) throws -> String {
        let s = try string(key, default: def)
        guard choices.contains(s) else {
            throw ConfigError(path: keyPath(key), "'\(s)' is not one of: \(choices.joined(separator: ", "))")
        }
        return s
    }

    public func intList(_ key: String, default def: [Int]? = nil) throws -> [Int] {
        guard has(key) else { return try missing(key, def) }
        guard let a = values[key]! as? [Any] else {
            throw ConfigError(path: keyPath(key), "expected a list of integers, got \(describe(values[key]!))")
        }
        return try a.enumerated().map { i, v in
            if let n = v as? Int, !(v is Bool) { return n }
            throw ConfigError(path: keyPath(key) + "[\(i)]", "expected an integer, got \(describe(v))")
        }
    }

    public func floatList(_ key: String, default def: [Float]? = nil) throws -> [Float] {
        guard has(key) else { return try missing(key, def) }
        guard let a = values[key]! as? [Any] else {
            throw ConfigError(path: keyPath(key), "expected a list of numbers, got \(describe(values[key]!))")
        }
        return try a.enumerated().map { i, v in
            if v is Bool { throw ConfigError(path: keyPath(key) + "[\(i)]", "expected a number, got \(describe(v))") }
            if let n = v as? Int { return Float(n) }
            if let d = v as? Double { return Float(d) }
            throw ConfigError(path: keyPath(key) + "[\(i)]", "expected a number, got \(describe(v))")
        }
    }

    /// Throws unless `condition` holds, naming `key`.
    public func require(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConfigError(path: keyPath(key), message()) }
    }

    private func missing<T>(_ key: String, _ def: T?) throws -> T {
        if let def { return def }
        throw ConfigError(path: keyPath(key), "required key is missing")
    }

    private func describe(_ v: Any) -> String {
        if v is Bool { return "a boolean (\(v))" }
        if let s = v as? String { return "a string (\"\(s)\")" }
        return ConfigSection.typeName(v)
    }

    static func typeName(_ v: Any) -> String {
        switch v {
        case is Bool: return "a boolean"
        case is Int: return "an integer (\(v))"
        case is Double: return "a number (\(v))"
        case is String: return "a string"
        case is [Any]: return "a list"
        case is [String: Any]: return "a mapping"
        default: return "\(type(of: v))"
        }
    }
}
