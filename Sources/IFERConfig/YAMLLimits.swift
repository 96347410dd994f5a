// YAML with limits checked BEFORE Yams builds any node: a config file is small, shallow and has few
// aliases, so anything else is refused with ConfigError.syntax naming the file and line.
//
// libyaml's event parser (no recursion, constant memory per event) walks the document once:
// - size: more than `maxBytes` is refused before parsing;
// - depth: a sequence or mapping nested deeper than `maxDepth` (10,000 '[' would otherwise
//   overflow Yams' recursive composer);
// - alias expansion: each anchor's subtree size is counted, each alias adds that size, and a
//   document expanding past `maxNodes` is refused ("billion laughs": a few hundred bytes that
//   expand to 10^9 nodes);
// - duplicate keys in one mapping (YAML forbids them; Yams keeps the last one silently).
// Only a document that passes is handed to Yams.compose.
import CYaml
import Yams

public struct YAMLLimits {
    /// Largest document in bytes (configs are a few KB).
    public var maxBytes = 1 << 20
    /// Deepest nesting of sequences and mappings.
    public var maxDepth = 64
    /// Most nodes after expanding every alias.
    public var maxNodes = 100_000

    public init() {}
}

/// Parses one YAML document under `limits`; nil for an empty document. `source` names the file in errors.
public func parseYAMLLimited(_ text: String, source: String, limits: YAMLLimits = YAMLLimits()) throws -> Yams.Node? {
    let size = text.utf8.count
    guard size <= limits.maxBytes else {
        throw ConfigError.syntax(file: source, detail: "\(size) bytes, above the \(limits.maxBytes)-byte limit for a config file")
    }
    try checkYAMLEvents(Array(text.utf8), source: source, limits: limits)
    do {
        return try Yams.compose(yaml: text)
    } catch {
        throw ConfigError.syntax(file: source, detail: "\(error)")
    }
}

/// One open sequence or mapping while walking the events.
private struct OpenNode {
    var anchor: String?
    var nodes = 1                  // this node plus everything below it, aliases expanded
    var isMapping: Bool
    var children = 0               // in a mapping, even = key, odd = value
    var keys: [String: Int] = [:]  // scalar key -> line it first appeared on
}

private func cString(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
    guard let p else { return nil }
    return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
}

private func checkYAMLEvents(_ bytes: [UInt8], source: String, limits: YAMLLimits) throws {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { throw ConfigError.syntax(file: source, detail: "cannot start the YAML parser") }
    defer { yaml_parser_delete(&parser) }
    try bytes.withUnsafeBufferPointer { buf in
        yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
        var stack: [OpenNode] = []
        var anchors: [String: Int] = [:]  // anchor -> expanded node count
        var total = 0
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
                throw ConfigError.syntax(file: source, detail: "line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): \(problem)")
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            // A finished child node of `count` expanded nodes: add it to the parent and the total.
            func finish(_ count: Int, anchor: String?, key: String?) throws {
                total += count
                guard total <= limits.maxNodes else {
                    throw ConfigError.syntax(file: source, detail: "line \(line): the document expands to more than \(limits.maxNodes) nodes (aliases of aliases?); refused before expanding")
                }
                if let anchor { anchors[anchor] = count }
                guard !stack.isEmpty else { return }
                stack[stack.count - 1].nodes += count
                if stack[stack.count - 1].isMapping {
                    if stack[stack.count - 1].children % 2 == 0, let key {
                        if let first = stack[stack.count - 1].keys[key] {
                            throw ConfigError.syntax(file: source, detail: "line \(line): duplicate key '\(key)' (first on line \(first))")
                        }
                        stack[stack.count - 1].keys[key] = line
                    }
                    stack[stack.count - 1].children += 1
                }
            }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_SCALAR_EVENT:
                try finish(1, anchor: cString(event.data.scalar.anchor), key: cString(event.data.scalar.value))
            case YAML_ALIAS_EVENT:
                let name = cString(event.data.alias.anchor) ?? ""
                guard let count = anchors[name] else {
                    throw ConfigError.syntax(file: source, detail: "line \(line): alias '*\(name)' names no anchor defined before it")
                }
                try finish(count, anchor: nil, key: nil)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                guard stack.count < limits.maxDepth else {
                    throw ConfigError.syntax(file: source, detail: "line \(line): nested deeper than \(limits.maxDepth) levels")
                }
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? cString(event.data.mapping_start.anchor) : cString(event.data.sequence_start.anchor)
                stack.append(OpenNode(anchor: anchor, isMapping: isMapping))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let done = stack.popLast() else { continue }
                try finish(done.nodes, anchor: done.anchor, key: nil)
            default:
                continue
            }
        }
    }
}
