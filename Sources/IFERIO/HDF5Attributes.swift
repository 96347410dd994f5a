// Attributes on files, groups and datasets: string, Int64, Double, [String], [Int64].
// Strings are variable-length UTF-8 (h5py reads them as str); integers are native int64.
import CHDF5

public enum H5AttributeValue: Equatable, CustomStringConvertible {
    case string(String)
    case int64(Int64)
    case double(Double)
    case strings([String])
    case int64s([Int64])

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .int64(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .strings(let v): return "\(v)"
        case .int64s(let v): return "\(v)"
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var int64Value: Int64? { if case .int64(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .double(let v): return v
        case .int64(let v): return Double(v)
        default: return nil
        }
    }
    public var stringsValue: [String]? {
        switch self {
        case .strings(let v): return v
        case .string(let s): return [s]
        default: return nil
        }
    }
    public var int64sValue: [Int64]? {
        switch self {
        case .int64s(let v): return v
        case .int64(let v): return [v]
        default: return nil
        }
    }
}

/// Writes (replacing any existing) attribute `name` on the open object `loc`.
func h5WriteAttribute(loc: hid_t, name: String, value: H5AttributeValue, path: String, key: String) throws {
    if H5Aexists(loc, name) > 0, H5Adelete(loc, name) < 0 {
        throw IOError(path: path, key: key, "cannot replace existing attribute")
    }
    func create(_ type: hid_t, _ count: Int?) throws -> (attr: hid_t, space: hid_t) {
        var dims = [hsize_t(count ?? 0)]
        let space = count == nil ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        if space < 0 { throw IOError(path: path, key: key, "cannot make attribute space") }
        let attr = H5Acreate2(loc, name, type, space, ch5_p_default(), ch5_p_default())
        if attr < 0 {
            H5Sclose(space)
            throw IOError(path: path, key: key, "cannot create attribute")
        }
        return (attr, space)
    }
    func finish(_ a: (attr: hid_t, space: hid_t), _ rc: herr_t) throws {
        H5Aclose(a.attr)
        H5Sclose(a.space)
        if rc < 0 { throw IOError(path: path, key: key, "cannot write attribute") }
    }
    switch value {
    case .string(let s):
        let t = h5MakeVarStringType()
        defer { H5Tclose(t) }
        let a = try create(t, nil)
        let rc = withCStringArray([s]) { p in p.withUnsafeBufferPointer { H5Awrite(a.attr, t, $0.baseAddress) } }
        try finish(a, rc)
    case .strings(let v):
        let t = h5MakeVarStringType()
        defer { H5Tclose(t) }
        let a = try create(t, v.count)
        let rc = v.isEmpty ? 0 : withCStringArray(v) { p in p.withUnsafeBufferPointer { H5Awrite(a.attr, t, $0.baseAddress) } }
        try finish(a, rc)
    case .int64(let x):
        var x = x
        let a = try create(ch5_native_int64(), nil)
        try finish(a, H5Awrite(a.attr, ch5_native_int64(), &x))
    case .int64s(let v):
        let a = try create(ch5_native_int64(), v.count)
        let rc = v.isEmpty ? 0 : v.withUnsafeBufferPointer { H5Awrite(a.attr, ch5_native_int64(), $0.baseAddress) }
        try finish(a, rc)
    case .double(let x):
        var x = x
        let a = try create(ch5_native_double(), nil)
        try finish(a, H5Awrite(a.attr, ch5_native_double(), &x))
    }
}

/// Reads attribute `name`: scalars come back as .string/.int64/.double, 1-D arrays as
/// .strings/.int64s (a 1-D float array reads as its first element only if it has one element).
func h5ReadAttribute(loc: hid_t, name: String, path: String, key: String) throws -> H5AttributeValue {
    if H5Aexists(loc, name) <= 0 { throw IOError(path: path, key: key, "no such attribute") }
    let attr = H5Aopen(loc, name, ch5_p_default())
    if attr < 0 { throw IOError(path: path, key: key, "cannot open attribute") }
    defer { H5Aclose(attr) }
    let space = H5Aget_space(attr)
    defer { H5Sclose(space) }
    let type = H5Aget_type(attr)
    defer { H5Tclose(type) }
    let rank = H5Sget_simple_extent_ndims(space)
    let n = Int(H5Sget_simple_extent_npoints(space))
    let isScalar = rank == 0
    let cls = H5Tget_class(type)
    if cls == H5T_STRING {
        var values: [String]
        if H5Tis_variable_str(type) > 0 {
            let t = h5MakeVarStringType()
            defer { H5Tclose(t) }
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            if n > 0 && H5Aread(attr, t, &ptrs) < 0 { throw IOError(path: path, key: key, "cannot read attribute") }
            values = ptrs.map { p in p.map { String(cString: $0) } ?? "" }
            if n > 0 { H5Dvlen_reclaim(t, space, ch5_p_default(), &ptrs) }
        } else {
            let size = H5Tget_size(type)
            var bytes = [UInt8](repeating: 0, count: max(1, n * size))
            if n > 0 && H5Aread(attr, type, &bytes) < 0 { throw IOError(path: path, key: key, "cannot read attribute") }
            values = (0..<n).map { i in String(decoding: bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }, as: UTF8.self) }
        }
        return isScalar ? .string(values.first ?? "") : .strings(values)
    }
    if cls == H5T_INTEGER {
        var v = [Int64](repeating: 0, count: n)
        if n > 0 && H5Aread(attr, ch5_native_int64(), &v) < 0 { throw IOError(path: path, key: key, "cannot read attribute") }
        return isScalar ? .int64(v.first ?? 0) : .int64s(v)
    }
    if cls == H5T_FLOAT {
        var v = [Double](repeating: 0, count: n)
        if n > 0 && H5Aread(attr, ch5_native_double(), &v) < 0 { throw IOError(path: path, key: key, "cannot read attribute") }
        if isScalar || n == 1 { return .double(v.first ?? 0) }
        throw IOError(path: path, key: key, "float array attributes are not supported")
    }
    throw IOError(path: path, key: key, "unsupported attribute type")
}

/// Names of all attributes of `loc` in name order.
func h5AttributeNames(loc: hid_t, path: String, key: String) throws -> [String] {
    var names: [String] = []
    var i: hsize_t = 0
    while true {
        let n = H5Aget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, ch5_p_default())
        if n < 0 { break }
        var buf = [CChar](repeating: 0, count: Int(n) + 1)
        H5Aget_name_by_idx(loc, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, ch5_p_default())
        names.append(String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        i += 1
    }
    return names
}
