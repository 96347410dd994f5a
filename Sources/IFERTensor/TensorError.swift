/// Every error an op or a tensor constructor can throw. Messages name the op and the shapes.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, shapes: [[Int]], detail: String)
    case badAxis(op: String, axis: Int, rank: Int)
    case badArgument(op: String, detail: String)
    case nonFinite(op: String, detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, shapes, detail):
            let s = shapes.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: " and ")
            return "\(op): shape mismatch between \(s)" + (detail.isEmpty ? "" : ": \(detail)")
        case let .badAxis(op, axis, rank):
            return "\(op): axis \(axis) is out of range for a tensor of rank \(rank)"
        case let .badArgument(op, detail):
            return "\(op): \(detail)"
        case let .nonFinite(op, detail):
            return "\(op): non-finite value: \(detail)"
        }
    }
}

/// Throws a shape mismatch unless `condition` holds.
@inline(__always)
func check(_ condition: Bool, _ op: String, _ shapes: [[Int]], _ detail: @autoclosure () -> String = "") throws {
    if !condition { throw TensorError.shapeMismatch(op: op, shapes: shapes, detail: detail()) }
}

/// Normalises a possibly negative axis, throwing if it is out of range.
public func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < rank else { throw TensorError.badAxis(op: op, axis: axis, rank: rank) }
    return a
}
