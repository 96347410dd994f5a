import Foundation
import Yams

/// A parsed YAML config as a plain ordered tree, so `--set a.b.c=value` overrides and strict
/// key checking work the same for every section.
public indirect enum ConfigValue: Equatable {
    case map([(String, ConfigValue)])
    case list([ConfigValue])
    /// A plain (unquoted) scalar: read as a number, a boolean or a string, as the key asks.
    case scalar(String)
    /// A quoted (or block) scalar: always a string, never a number or a boolean (`"yes"`, `"3"`).
    case quoted(String)

    public static func == (l: ConfigValue, r: ConfigValue) -> Bool {
        switch (l, r) {
        case let (.map(a), .map(b)): return a.map(\.0) == b.map(\.0) && zip(a, b).allSatisfy { $0.1 == $1.1 }
        case let (.list(a), .list(b)): return a == b
        case let (.scalar(a), .scalar(b)), let (.quoted(a), .quoted(b)): return a == b
        default: return false
        }
    }

    /// Parses YAML text; `source` names the file in errors. This is the one YAML reader of the
    /// project: run configs, model configs and `--set` values all come through here.
    public static func parse(_ text: String, source: String) throws -> ConfigValue {
        let node: Node?
        do { node = try parseYAMLLimited(text, source: source) } catch let e as ConfigError { throw e } catch {
            throw ConfigError.syntax(file: source, detail: "\(error)")
        }
        guard let node else { return .map([]) }
        return try from(node, path: "", source: source)
    }

    /// The text of a config file, with a clear error naming it when it cannot be read.
    public static func read(file: String) throws -> String {
        do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConfigError.syntax(file: file, detail: "cannot read: \(error.localizedDescription)")
        }
    }

    static func from(_ node: Node, path: String, source: String) throws -> ConfigValue {
        switch node {
        case let .scalar(s): return s.style == .plain ? .scalar(s.string) : .quoted(s.string)
        case let .sequence(seq): return .list(try seq.map { try from($0, path: path, source: source) })
        case let .mapping(m):
            var out: [(String, ConfigValue)] = []
            for (k, v) in m {
                guard let key = k.string else { throw ConfigError.syntax(file: source, detail: "non-string key under '\(path)'") }
                // Duplicate keys were refused by parseYAMLLimited, with their lines.
                out.append((key, try from(v, path: path.isEmpty ? key : path + "." + key, source: source)))
            }
            return .map(out)

        }
    }

    public var isEmptyMap: Bool { if case let .map(m) = self { return m.isEmpty }; return false }

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
        case let .scalar(s): return s.isEmpty || needsQuotes(s) ? quote(s) : s
        case let .quoted(s): return quote(s)
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

    /// A double-quoted YAML scalar: backslashes and quotes escaped, control characters as \uXXXX.
    private func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where u.value < 0x20: out += String(format: "\\u%04X", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    private func needsQuotes(_ s: String) -> Bool {
        s.contains(": ") || s.contains("#") || s.hasPrefix(" ") || s.hasSuffix(" ") || s.contains("\"") || s.contains(",") || s.contains("[")
    }
}

