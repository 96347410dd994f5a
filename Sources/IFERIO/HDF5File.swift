// H5File: a small safe wrapper over the HDF5 C API. One file handle, closed deterministically by
// close() or deinit; groups are created by path with every missing parent; errors name file + key.
import CHDF5
import Foundation

/// Silences HDF5's stderr error stack exactly once per process: we report errors ourselves.
private let silenceHDF5Once: Void = { ch5_silence_errors() }()

/// What a path inside the file names.
public enum H5MemberKind: String, Equatable { case group, dataset, other }

/// One entry of a recursive group listing: full path ("/params/w") and kind.
public struct H5Member: Equatable {
    public let path: String
    public let kind: H5MemberKind
}

public final class H5File {
    public enum Mode { case create, readOnly, readWrite }

    public let path: String
    public let mode: Mode
    /// The HDF5 file id; -1 after close().
    public private(set) var id: hid_t
    /// The mapped file HDF5 reads in place (H5File(image:)); kept alive while this file is.
    private let image: MappedFile?

    /// Creates (truncating), or opens an existing file read-only / read-write.
    public init(path: String, mode: Mode) throws {
        _ = silenceHDF5Once
        self.path = path
        self.mode = mode
        image = nil
        // Strong close degree: closing the file closes every object still open in it, so the file is
        // really closed (and safe to fsync/rename) when close() returns.
        let fapl = H5Pcreate(ch5_p_file_access())
        defer { if fapl >= 0 { H5Pclose(fapl) } }
        if fapl >= 0 {
            H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
            // Keep HDF5's file locks, but do not fail on file systems without flock (Lustre, some NFS).
            H5Pset_file_locking(fapl, true, true)
        }
        switch mode {
        case .create:
            id = H5Fcreate(path, ch5_f_acc_trunc(), ch5_p_default(), fapl)
            if id < 0 { throw IOError(path: path, "cannot create HDF5 file (directory missing or not writable?)") }
        case .readOnly, .readWrite:
            guard FileManager.default.fileExists(atPath: path) else {
                throw IOError(path: path, "no such file")
            }
            if H5Fis_hdf5(path) <= 0 {
                id = -1
                throw IOError(path: path, "not an HDF5 file (or truncated/corrupt)")
            }
            id = -1
            try H5Guard.checkGlobalHeaps(path: path)   // refuses what libhdf5 1.10 would loop on
            id = H5Fopen(path, mode == .readOnly ? ch5_f_acc_rdonly() : ch5_f_acc_rdwr(), fapl)
            if id < 0 { throw IOError(path: path, "cannot open HDF5 file (corrupt, or locked by another process?)") }
        }
    }

    /// Opens a mapped file read-only, HDF5 reading the mapping in place (the core driver, no
    /// copy): the bytes a checkpoint was verified from are the bytes parsed. The guard scan is run
    /// here unless `image.scan` already ran it.
    public init(image: MappedFile) throws {
        _ = silenceHDF5Once
        path = image.path
        mode = .readOnly
        self.image = image
        id = -1
        if !image.guardPassed {
            try H5Guard.checkGlobalHeaps(image.bytes, path: path)   // refuses what libhdf5 1.10 would loop on
            image.guardPassed = true
        }
        let fapl = H5Pcreate(ch5_p_file_access())
        if fapl < 0 { throw IOError(path: path, "cannot create a file access list") }
        defer { H5Pclose(fapl) }
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        if ch5_set_file_image(fapl, image.image) < 0 { throw IOError(path: path, "cannot hand the mapped file to HDF5's core driver") }
        id = H5Fopen(image.hdf5Name, ch5_f_acc_rdonly(), fapl)
        if id < 0 { throw IOError(path: path, "not an HDF5 file (or truncated/corrupt)") }
    }

    deinit { close() }

    public var isOpen: Bool { id >= 0 }

    /// Flushes and closes the file and every object still open in it. Idempotent.
    public func close() {
        if id >= 0 {
            H5Fclose(id)
            id = -1
        }
    }

    /// Flushes HDF5's buffers to the OS (not an fsync).
    public func flush() throws {
        try checkOpen(nil)
        if H5Fflush(id, H5F_SCOPE_GLOBAL) < 0 { throw IOError(path: path, "flush failed") }
    }

    func checkOpen(_ key: String?) throws {
        if id < 0 { throw IOError(path: path, key: key, "file is closed") }
    }

    // MARK: groups and paths

    /// True when `key` names an existing object ("/a/b"); false for missing parents too.
    public func exists(_ key: String) -> Bool {
        guard id >= 0 else { return false }
        if key == "/" || key.isEmpty { return true }
        // H5Lexists fails (rather than returning false) when a parent is missing: walk the path.
        var prefix = ""
        for part in key.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, ch5_p_default()) <= 0 { return false }
        }
        return H5Oexists_by_name(id, key, ch5_p_default()) > 0
    }

    /// Creates the group `key` and any missing parents; an existing group is fine.
    public func createGroup(_ key: String) throws {
        try checkOpen(key)
        if exists(key) {
            if try kind(of: key) != .group { throw IOError(path: path, key: key, "exists and is not a group") }
            return
        }
        // Parents one by one (not through the link list's "create intermediate groups"), so every
        // group gets the creation list without timestamps.
        if let slash = key.lastIndex(of: "/"), slash != key.startIndex { try createGroup(String(key[..<slash])) }
        let gcpl = H5Pcreate(ch5_p_group_create())
        defer { if gcpl >= 0 { H5Pclose(gcpl) } }
        if gcpl >= 0 { H5Pset_obj_track_times(gcpl, false) }
        let g = H5Gcreate2(id, key, ch5_p_default(), gcpl, ch5_p_default())
        if g < 0 { throw IOError(path: path, key: key, "cannot create group") }
        H5Gclose(g)
    }

    /// Whether `key` is a group or a dataset.
    public func kind(of key: String) throws -> H5MemberKind {
        try checkOpen(key)
        guard exists(key) else { throw IOError(path: path, key: key, "no such object") }
        let o = H5Oopen(id, key, ch5_p_default())
        if o < 0 { throw IOError(path: path, key: key, "cannot open object") }
        defer { H5Oclose(o) }
        let t = H5Iget_type(o)
        if t == H5I_GROUP { return .group }
        if t == H5I_DATASET { return .dataset }
        return .other
    }

    /// Every member below `group`, depth first in name order, as full paths.
    public func members(of group: String = "/", recursive: Bool = true) throws -> [H5Member] {
        try checkOpen(group)
        guard exists(group) else { throw IOError(path: path, key: group, "no such group") }
        let g = H5Gopen2(id, group, ch5_p_default())
        if g < 0 { throw IOError(path: path, key: group, "not a group") }
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        if H5Gget_info(g, &info) < 0 { throw IOError(path: path, key: group, "cannot list group") }
        let base = group.hasSuffix("/") ? group : group + "/"
        var out: [H5Member] = []
        for i in 0..<info.nlinks {
            let n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, ch5_p_default())
            if n < 0 { throw IOError(path: path, key: group, "cannot read member name #\(i)") }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, buf.count, ch5_p_default())
            let name = String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let full = base + name
            let k = try kind(of: full)
            out.append(H5Member(path: full, kind: k))
            if recursive && k == .group { out += try members(of: full, recursive: true) }
        }
        return out
    }

    // MARK: datasets

    /// Creates a numeric dataset. `chunk` defaults to whole rows of about 1 MB when gzip or
    /// `extendible` needs chunking; `gzip` is the deflate level 1-9; `extendible` makes the first
    /// axis unlimited (grow with `H5Dataset.resize(rows:)`). Missing parent groups are created.
    @discardableResult
    public func createDataset<T: H5Element>(_ key: String, of type: T.Type, shape: [Int], chunk: [Int]? = nil,
                                            gzip: Int? = nil, extendible: Bool = false) throws -> H5Dataset {
        try createDataset(key, nativeType: T.h5NativeType, elementSize: MemoryLayout<T>.stride, dtype: T.h5dtype,
                          shape: shape, chunk: chunk, gzip: gzip, extendible: extendible)
    }

    /// Creates a dataset of variable-length UTF-8 strings with the given shape (usually [N]).
    @discardableResult
    public func createStringDataset(_ key: String, shape: [Int], chunk: [Int]? = nil, gzip: Int? = nil,
                                    extendible: Bool = false) throws -> H5Dataset {
        let t = h5MakeVarStringType()
        if t < 0 { throw IOError(path: path, key: key, "cannot make string type") }
        defer { H5Tclose(t) }
        return try createDataset(key, nativeType: t, elementSize: MemoryLayout<UnsafePointer<CChar>?>.stride,
                                 dtype: .string, shape: shape, chunk: chunk, gzip: gzip, extendible: extendible)
    }

    private func createDataset(_ key: String, nativeType: hid_t, elementSize: Int, dtype: H5DType, shape: [Int],
                               chunk: [Int]?, gzip: Int?, extendible: Bool) throws -> H5Dataset {
        try checkOpen(key)
        if shape.contains(where: { $0 < 0 }) { throw IOError(path: path, key: key, "negative dimension in shape \(shape)") }
        if let gzip, !(0...9).contains(gzip) { throw IOError(path: path, key: key, "gzip level \(gzip) not in 0...9") }
        if exists(key) { throw IOError(path: path, key: key, "already exists") }
        let wantsChunks = chunk != nil || gzip != nil || extendible
        if wantsChunks && shape.isEmpty { throw IOError(path: path, key: key, "a scalar dataset cannot be chunked") }
        // An empty fixed dimension cannot hold a chunk: make the first axis unlimited instead.
        let growable = extendible || (wantsChunks && shape.first == 0)
        var dims = shape.map { hsize_t($0) }
        var maxDims = dims
        if growable { maxDims[0] = ch5_unlimited() }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, &maxDims)
        if space < 0 { throw IOError(path: path, key: key, "cannot make dataspace for shape \(shape)") }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(ch5_p_dataset_create())
        defer { if dcpl >= 0 { H5Pclose(dcpl) } }
        // No creation / modification times in the object header: the same contents give the same
        // bytes, so shards and checkpoints of identical runs have identical checksums.
        if dcpl >= 0 { H5Pset_obj_track_times(dcpl, false) }
        if wantsChunks {
            var c = chunk ?? H5File.defaultChunk(shape: shape, elementSize: elementSize)
            if c.count != shape.count || c.contains(where: { $0 <= 0 }) {
                throw IOError(path: path, key: key, "chunk \(c) does not fit shape \(shape)")
            }
            for d in 1..<max(1, shape.count) where c[d] > shape[d] { c[d] = max(1, shape[d]) }
            if !growable { c[0] = min(c[0], max(1, shape[0])) }
            var cdims = c.map { hsize_t($0) }
            if H5Pset_chunk(dcpl, Int32(cdims.count), &cdims) < 0 {
                throw IOError(path: path, key: key, "invalid chunk \(c) for shape \(shape)")
            }
            if let gzip, gzip > 0, H5Pset_deflate(dcpl, UInt32(gzip)) < 0 {
                throw IOError(path: path, key: key, "cannot enable gzip")
            }
        }
        // The file type equals the native memory type (little-endian on every platform we run on).
        if let slash = key.lastIndex(of: "/"), slash != key.startIndex { try createGroup(String(key[..<slash])) }
        let d = H5Dcreate2(id, key, nativeType, space, ch5_p_default(), dcpl, ch5_p_default())
        if d < 0 { throw IOError(path: path, key: key, "cannot create dataset") }
        return H5Dataset(file: self, key: key, id: d)
    }

    /// Whole rows of roughly 1 MB per chunk (at least one row).
    static func defaultChunk(shape: [Int], elementSize: Int) -> [Int] {
        let rowBytes = max(1, shape.dropFirst().reduce(1, *) * elementSize)
        let rows = max(1, min(max(1, shape[0]), (1 << 20) / rowBytes))
        return [rows] + shape.dropFirst()
    }

    /// Opens an existing dataset.
    public func openDataset(_ key: String) throws -> H5Dataset {
        try checkOpen(key)
        guard exists(key) else { throw IOError(path: path, key: key, "no such dataset") }
        let d = H5Dopen2(id, key, ch5_p_default())
        if d < 0 { throw IOError(path: path, key: key, "not a dataset") }
        return H5Dataset(file: self, key: key, id: d)
    }

    // MARK: one-call conveniences

    /// Creates `key` with `shape` and writes all of `values` (count must match the shape).
    public func write<T: H5Element>(_ key: String, _ values: [T], shape: [Int]? = nil, chunk: [Int]? = nil,
                                    gzip: Int? = nil) throws {
        let ds = try createDataset(key, of: T.self, shape: shape ?? [values.count], chunk: chunk, gzip: gzip)
        defer { ds.close() }
        try ds.write(values)
    }

    /// Creates a 1-D string dataset holding `values`.
    public func writeStrings(_ key: String, _ values: [String], chunk: [Int]? = nil, gzip: Int? = nil) throws {
        let ds = try createStringDataset(key, shape: [values.count], chunk: chunk, gzip: gzip)
        defer { ds.close() }
        try ds.writeStrings(values)
    }

    /// Reads a whole numeric dataset as a flat array (row-major).
    public func read<T: H5Element>(_ key: String, as type: T.Type) throws -> [T] {
        let ds = try openDataset(key)
        defer { ds.close() }
        return try ds.readAll(as: T.self)
    }

    /// Reads a whole string dataset.
    public func readStrings(_ key: String) throws -> [String] {
        let ds = try openDataset(key)
        defer { ds.close() }
        return try ds.readStrings()
    }

    /// The shape of dataset `key`.
    public func shape(of key: String) throws -> [Int] {
        let ds = try openDataset(key)
        defer { ds.close() }
        return try ds.shape()
    }

    /// The element type of dataset `key`.
    public func dtype(of key: String) throws -> H5DType {
        let ds = try openDataset(key)
        defer { ds.close() }
        return try ds.dtype()
    }

    // MARK: attributes on the file root or any group/dataset path

    public func setAttribute(_ name: String, _ value: H5AttributeValue, at object: String = "/") throws {
        try checkOpen(object)
        let o = try openObject(object)
        defer { H5Oclose(o) }
        try h5WriteAttribute(loc: o, name: name, value: value, path: path, key: attributeKey(object, name))
    }

    public func attribute(_ name: String, at object: String = "/") throws -> H5AttributeValue {
        try checkOpen(object)
        let o = try openObject(object)
        defer { H5Oclose(o) }
        return try h5ReadAttribute(loc: o, name: name, path: path, key: attributeKey(object, name))
    }

    public func hasAttribute(_ name: String, at object: String = "/") -> Bool {
        guard id >= 0, exists(object) else { return false }
        let o = H5Oopen(id, object, ch5_p_default())
        if o < 0 { return false }
        defer { H5Oclose(o) }
        return H5Aexists(o, name) > 0
    }

    public func attributeNames(at object: String = "/") throws -> [String] {
        try checkOpen(object)
        let o = try openObject(object)
        defer { H5Oclose(o) }
        return try h5AttributeNames(loc: o, path: path, key: object)
    }

    private func openObject(_ object: String) throws -> hid_t {
        guard exists(object) else { throw IOError(path: path, key: object, "no such group or dataset") }
        let o = H5Oopen(id, object, ch5_p_default())
        if o < 0 { throw IOError(path: path, key: object, "cannot open object") }
        return o
    }

    private func attributeKey(_ object: String, _ name: String) -> String {
        object == "/" ? "@\(name)" : "\(object)@\(name)"
    }
}
