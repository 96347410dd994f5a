import Yams

/// A parsed YAML config as a plain ordered tree, so `--set a.b.c=value` overrides and strict
/// key checking work the same for every section.
public indirect enum ConfigValue: Equatable {
    case map([(String, ConfigValue)])
    case list([ConfigValue])
    case scalar(String)

    public static func == (l: ConfigValue, r: ConfigValue) -> Bool {
        switch (l, r) {
        case let (.map(a), .map(b)): return a.map(\.0) == b.map(\.0) && zip(a, b).allSatisfy { $0.1 == $1.1 }
        case let (.list(a), .list(b)): return a == b
        case let (.scalar(a), .scalar(b)): return a == b
        default: return false
        }
    }

    /// Parses YAML text; `source` names the file in errors.
    public static func parse(_ text: String, source: String) throws -> ConfigValue {
        let node: Node?
        do { node = try parseYAMLLimited(text, source: source) } catch let e as ConfigError { throw e } catch {
            throw ConfigError.syntax(file: source, detail: "\(error)")
        }
        guard let node else { return .map([]) }
        return try from(node, path: "", source: source)
    }

    static func from(_ node: Node, path: String, source: String) throws -> ConfigValue {
        switch node {
        case let .scalar(s): return .scalar(s.string)
        case let .sequence(seq): return .list(try seq.map { try from($0, path: path, source: source) })
        case let .mapping(m):
            var out: [(String, ConfigValue)] = []
            for (k, v) in m {
                guard let key = k.string else { throw ConfigError.syntax(file: source, detail: "non-string key under '\(path)'") }
                out.append((key, try from(v, path: path.isEmpty ? key : path + "." + key, source: source)))
            }
            return .map(out)

        }
    }

    public subscript(key: String) -> ConfigValue? {
        if case let .map(m) = self { return m.first { $0.0 == key }?.1 }
        return nil
    }

    /// Sets the value at a dotted path, creating intermediate maps.
    public mutating func set(_ path: [String], _ value: ConfigValue) {
        guard let head = path.first else { self = value; return }
        var m: [(String, ConfigValue)] = []
        if case let .map(existing) = self { m = existing }
        if let i = m.firstIndex(where: { $0.0 == head }) {
            m[i].1.set(Array(path.dropFirst()), value)
        } else {
            var child = ConfigValue.map([])
            child.set(Array(path.dropFirst()), value)
            m.append((head, child))
        }
        self = .map(m)
    }

    /// YAML text of the tree (the resolved config stored in checkpoints).
    public func yaml(indent: String = "") -> String {
        switch self {
        case let .scalar(s): return s.isEmpty ? "\"\"" : (needsQuotes(s) ? "\"\(s)\"" : s)
        case let .list(items):
            if items.isEmpty { return "[]" }
            return "[" + items.map { $0.yaml() }.joined(separator: ", ") + "]"
        case let .map(m):
            if m.isEmpty { return "{}" }
            return m.map { k, v -> String in
                if case let .map(inner) = v, !inner.isEmpty { return "\(indent)\(k):\n" + v.yaml(indent: indent + "  ") }
                return "\(indent)\(k): \(v.yaml(indent: indent + "  "))"
            }.joined(separator: "\n")
        }
    }

    private func needsQuotes(_ s: String) -> Bool {
        s.contains(": ") || s.contains("#") || s.hasPrefix(" ") || s.hasSuffix(" ") || s.contains("\"") || s.contains(",") || s.contains("[")
    }
}

public enum ConfigError: Error, CustomStringConvertible {
    case syntax(file: String, detail: String)
    case unknownKey(path: String, allowed: [String])
    case badType(path: String, expected: String, found: String)
    case badValue(path: String, detail: String)
    case badOverride(String)

    public var description: String {
        switch self {
        case let .syntax(file, detail): return "config \(file): \(detail)"
        case let .unknownKey(path, allowed):
            return "config: unknown key '\(path)'; allowed keys here: \(allowed.joined(separator: ", "))"
        case let .badType(path, expected, found): return "config: '\(path)' must be \(expected), found '\(found)'"
        case let .badValue(path, detail): return "config: '\(path)': \(detail)"
        case let .badOverride(s): return "config: bad --set '\(s)': expected key.path=value"
        }
    }
}
