/// What a tensor is for: parameters get gradients and are all-reduced; buffers (EMA copies,
/// momentum networks, latent_avg, noise) are saved but never reduced; activations are transient.
public enum TensorKind: String, Sendable {
    case activation, parameter, buffer
}

/// A float32 tensor: a shape and a contiguous row-major view into a `Storage`.
///
/// Layout is always contiguous (strides are implied by the shape). Reshape and slicing along
/// the first axis are free views; everything else copies. Gradients live in `grad`: for a
/// parameter that is a view into the model's flat gradient buffer, for an activation it is
/// allocated during backward and released afterwards.
public final class Tensor {
    public private(set) var shape: [Int]
    public private(set) var storage: Storage
    public private(set) var offset: Int
    public let count: Int

    public var grad: Tensor?
    public var requiresGrad: Bool
    public var kind: TensorKind
    /// Optional name (the checkpoint key for parameters and buffers).
    public var name: String = ""
    /// Position in the owning flat buffer's registration order, or -1.
    public var flatIndex: Int = -1

    /// Zero-filled tensor.
    public init(zeros shape: [Int], requiresGrad: Bool = false, kind: TensorKind = .activation) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = Storage(count: count)
        self.offset = 0
        self.requiresGrad = requiresGrad
        self.kind = kind
    }

    /// Tensor whose values are not initialised: only for op outputs that are fully written.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = Storage(count: count, zeroed: false)
        self.offset = 0
        self.requiresGrad = false
        self.kind = .activation
    }

    /// A view of `count(shape)` floats starting at `offset` in `storage`.
    public init(view storage: Storage, offset: Int, shape: [Int], kind: TensorKind = .activation) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= storage.count, "view out of storage bounds")
        self.storage = storage
        self.offset = offset
        self.requiresGrad = false
        self.kind = kind
    }

    /// Tensor with the given values; throws if the count does not match the shape.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) throws {
        let n = shape.reduce(1, *)
        guard n == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch(op: "Tensor.init", shapes: [shape, [values.count]],
                                            detail: "\(values.count) values for a shape of \(n) elements")
        }
        self.init(zeros: shape, requiresGrad: requiresGrad)
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: n) }
    }

    /// Scalar tensor of shape [].
    public convenience init(scalar: Float) {
        self.init(zeros: [])
        ptr[0] = scalar
    }

    public convenience init(filled value: Float, shape: [Int]) {
        self.init(zeros: shape)
        ptr.update(repeating: value, count: count)
    }

    @inline(__always) public var ptr: UnsafeMutablePointer<Float> { storage.base + offset }
    public var rank: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: ptr, count: count) }
    public var array: [Float] { Array(buffer) }
    public var item: Float { ptr[0] }
    public var bytes: Int { count * MemoryLayout<Float>.stride }

    /// Size of dimension `axis` (negative counts from the end).
    public func dim(_ axis: Int) -> Int { shape[axis < 0 ? axis + shape.count : axis] }

    /// Moves this tensor's data into `storage` at `offset` (used to pack parameters into one flat buffer).
    public func rebind(to storage: Storage, offset: Int) {
        precondition(offset + count <= storage.count)
        (storage.base + offset).update(from: ptr, count: count)
        self.storage = storage
        self.offset = offset
    }

    /// Gradient tensor, created zero-filled on first use.
    public func gradOrCreate() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(zeros: shape)
        grad = g
        return g
    }

    /// A new tensor with the same values that is cut from the tape (no gradient flows back).
    public func detach() -> Tensor {
        let t = Tensor(view: storage, offset: offset, shape: shape)
        return t
    }

    /// Deep copy (no gradient link).
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.ptr.update(from: ptr, count: count)
        return t
    }

    /// Overwrites the values in place (shapes must hold the same number of elements).
    public func assign(_ other: Tensor) throws {
        try check(other.count == count, "assign", [shape, other.shape])
        ptr.update(from: other.ptr, count: count)
    }

    public func fill(_ value: Float) { ptr.update(repeating: value, count: count) }

    /// Throws if any element is NaN or infinite; `op` names the caller in the message.
    public func checkFinite(_ op: String) throws {
        for i in 0..<count where !ptr[i].isFinite {
            throw TensorError.nonFinite(op: op, detail: "element \(i) of a tensor of shape \(shape) is \(ptr[i])")
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = array.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape)\(name.isEmpty ? "" : " " + name): [\(head)\(count > 8 ? ", …" : "")])"
    }
}

import Foundation
