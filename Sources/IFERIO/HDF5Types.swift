// Element types HDF5 datasets and attributes can hold, mapped to HDF5's native type ids.
import CHDF5

/// The element type of a dataset as stored in the file.
public enum H5DType: String, Equatable, CustomStringConvertible {
    case float32, float64, uint8, int16, int32, int64, uint32, uint64, string
    public var description: String { rawValue }
}

/// A fixed-size numeric element we can move to and from HDF5 without conversion.
public protocol H5Element {
    static var h5dtype: H5DType { get }
    /// The HDF5 native memory type (a library-owned id, never closed).
    static var h5NativeType: hid_t { get }
}

extension Float: H5Element {
    public static var h5dtype: H5DType { .float32 }
    public static var h5NativeType: hid_t { ch5_native_float() }
}
extension Double: H5Element {
    public static var h5dtype: H5DType { .float64 }
    public static var h5NativeType: hid_t { ch5_native_double() }
}
extension UInt8: H5Element {
    public static var h5dtype: H5DType { .uint8 }
    public static var h5NativeType: hid_t { ch5_native_uint8() }
}
extension Int16: H5Element {
    public static var h5dtype: H5DType { .int16 }
    public static var h5NativeType: hid_t { ch5_native_int16() }
}
extension Int32: H5Element {
    public static var h5dtype: H5DType { .int32 }
    public static var h5NativeType: hid_t { ch5_native_int32() }
}
extension Int64: H5Element {
    public static var h5dtype: H5DType { .int64 }
    public static var h5NativeType: hid_t { ch5_native_int64() }
}
extension UInt32: H5Element {
    public static var h5dtype: H5DType { .uint32 }
    public static var h5NativeType: hid_t { ch5_native_uint32() }
}
extension UInt64: H5Element {
    public static var h5dtype: H5DType { .uint64 }
    public static var h5NativeType: hid_t { ch5_native_uint64() }
}

/// Classifies a file datatype id into our dtype enum, or nil for types we do not handle
/// (compound, enum, fixed-length strings are reported as .string).
func h5ClassifyType(_ type: hid_t) -> H5DType? {
    let cls = H5Tget_class(type)
    let size = H5Tget_size(type)
    if cls == H5T_STRING { return .string }
    if cls == H5T_FLOAT {
        if size == 4 { return .float32 }
        if size == 8 { return .float64 }
        return nil
    }
    if cls == H5T_INTEGER {
        let signed = H5Tget_sign(type) == H5T_SGN_2
        switch (size, signed) {
        case (1, false): return .uint8
        case (2, true): return .int16
        case (4, true): return .int32
        case (8, true): return .int64
        case (4, false): return .uint32
        case (8, false): return .uint64
        default: return nil
        }
    }
    return nil
}

/// A new variable-length UTF-8 string type; the caller closes it with H5Tclose.
func h5MakeVarStringType() -> hid_t {
    let t = H5Tcopy(ch5_c_s1())
    if t >= 0 {
        H5Tset_size(t, ch5_variable())
        H5Tset_cset(t, H5T_CSET_UTF8)
    }
    return t
}

/// Calls `body` with C string pointers to each Swift string; the copies are freed afterwards.
func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
    var owned: [UnsafeMutablePointer<CChar>?] = []
    owned.reserveCapacity(strings.count)
    for s in strings { owned.append(strdup(s)) }
    defer { for p in owned { free(p) } }
    return try body(owned.map { UnsafePointer($0) })
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
