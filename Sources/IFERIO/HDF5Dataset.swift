// H5Dataset: whole-dataset and first-axis hyperslab reads/writes with strict element types.
import CHDF5

public final class H5Dataset {
    /// Kept alive so the file outlives its datasets.
    public let file: H5File
    public let key: String
    public private(set) var id: hid_t

    init(file: H5File, key: String, id: hid_t) {
        self.file = file
        self.key = key
        self.id = id
    }

    deinit { close() }

    /// Closes the dataset handle. Idempotent; a no-op once the file itself was closed.
    public func close() {
        if id >= 0 {
            if file.isOpen { H5Dclose(id) }
            id = -1
        }
    }

    private func fail(_ message: String) -> IOError { IOError(path: file.path, key: key, message) }

    private func checkOpen() throws {
        if id < 0 || !file.isOpen { throw fail("dataset is closed") }
    }

    /// Current dimensions ([] for a scalar).
    public func shape() throws -> [Int] {
        try checkOpen()
        let space = H5Dget_space(id)
        if space < 0 { throw fail("cannot read dataspace") }
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        if rank < 0 { throw fail("cannot read rank") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { H5Sget_simple_extent_dims(space, &dims, nil) }
        if let big = dims.first(where: { $0 > hsize_t(Int.max) }) { throw fail("dimension \(big) is out of range") }
        return dims.map { Int($0) }
    }

    /// Element type as stored.
    public func dtype() throws -> H5DType {
        try checkOpen()
        let t = H5Dget_type(id)
        if t < 0 { throw fail("cannot read datatype") }
        defer { H5Tclose(t) }
        guard let d = h5ClassifyType(t) else { throw fail("unsupported element type") }
        return d
    }

    /// Number of elements.
    public func count() throws -> Int { try H5Dataset.elements(try shape(), fail) }

    /// The product of `dims`, or an error (naming the dataset) when it overflows.
    static func elements(_ dims: some Sequence<Int>, _ fail: (String) -> IOError) throws -> Int {
        var n = 1
        for d in dims {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { throw fail("element count of shape \(Array(dims)) overflows") }
            n = p
        }
        return n
    }

    private func checkType(_ want: H5DType) throws {
        let have = try dtype()
        if have != want { throw fail("element type is \(have), caller asked for \(want)") }
    }

    /// Grows or shrinks the first axis of an extendible dataset.
    public func resize(rows: Int) throws {
        var dims = try shape().map { hsize_t($0) }
        guard !dims.isEmpty, rows >= 0 else { throw fail("cannot resize to \(rows) rows") }
        dims[0] = hsize_t(rows)
        if H5Dset_extent(id, &dims) < 0 { throw fail("cannot resize to \(rows) rows (not extendible?)") }
    }

    // MARK: selections

    /// Runs `body(memSpace, fileSpace)` for rows start..<start+rows; both spaces are closed after.
    private func withRowSelection<R>(start: Int, rows: Int, _ body: (hid_t, hid_t) throws -> R) throws -> R {
        let s = try shape()
        guard !s.isEmpty else { throw fail("row access on a scalar dataset") }
        guard start >= 0, rows >= 0, start + rows <= s[0] else {
            throw fail("rows \(start)..<\(start + rows) out of range 0..<\(s[0])")
        }
        let fileSpace = H5Dget_space(id)
        if fileSpace < 0 { throw fail("cannot read dataspace") }
        defer { H5Sclose(fileSpace) }
        var offset = [hsize_t](repeating: 0, count: s.count)
        offset[0] = hsize_t(start)
        var count = s.map { hsize_t($0) }
        count[0] = hsize_t(rows)
        if H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &count, nil) < 0 {
            throw fail("cannot select rows \(start)..<\(start + rows)")
        }
        let memSpace = H5Screate_simple(Int32(count.count), &count, nil)
        if memSpace < 0 { throw fail("cannot make memory space") }
        defer { H5Sclose(memSpace) }
        return try body(memSpace, fileSpace)
    }

    private func rowElements() throws -> Int { try H5Dataset.elements(try shape().dropFirst(), fail) }

    // MARK: numeric data

    /// Writes the whole dataset; `values.count` must equal the element count.
    public func write<T: H5Element>(_ values: UnsafeBufferPointer<T>) throws {
        try checkOpen()
        try checkType(T.h5dtype)
        let n = try count()
        if values.count != n { throw fail("write of \(values.count) values into \(n) elements (shape \(try shape()))") }
        if n == 0 { return }
        if H5Dwrite(id, T.h5NativeType, ch5_s_all(), ch5_s_all(), ch5_p_default(), values.baseAddress) < 0 {
            throw fail("write failed (disk full?)")
        }
    }

    public func write<T: H5Element>(_ values: [T]) throws {
        try values.withUnsafeBufferPointer { try write($0) }
    }

    /// Writes whole rows starting at row `start`; `rows.count` must be a multiple of one row's size.
    public func write<T: H5Element>(rows values: UnsafeBufferPointer<T>, at start: Int) throws {
        try checkOpen()
        try checkType(T.h5dtype)
        let per = try rowElements()
        guard per > 0, values.count % per == 0 else { throw fail("\(values.count) values are not whole rows of \(per)") }
        let n = values.count / per
        if n == 0 { return }
        try withRowSelection(start: start, rows: n) { mem, fs in
            if H5Dwrite(id, T.h5NativeType, mem, fs, ch5_p_default(), values.baseAddress) < 0 {
                throw fail("write of rows \(start)..<\(start + n) failed")
            }
        }
    }

    public func write<T: H5Element>(rows values: [T], at start: Int) throws {
        try values.withUnsafeBufferPointer { try write(rows: $0, at: start) }
    }

    /// Reads the whole dataset into `buffer` (its count must equal the element count).
    public func read<T: H5Element>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        try checkOpen()
        try checkType(T.h5dtype)
        let n = try count()
        if buffer.count != n { throw fail("read of \(n) elements into a buffer of \(buffer.count)") }
        if n == 0 { return }
        if H5Dread(id, T.h5NativeType, ch5_s_all(), ch5_s_all(), ch5_p_default(), buffer.baseAddress) < 0 {
            throw fail("read failed (corrupt data or checksum?)")
        }
    }

    /// Reads rows `rows` into `buffer` (count must be rows.count times one row's size).
    public func read<T: H5Element>(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try checkOpen()
        try checkType(T.h5dtype)
        let per = try rowElements()
        if buffer.count != rows.count * per {
            throw fail("read of rows \(rows) needs \(rows.count * per) elements, buffer has \(buffer.count)")
        }
        if rows.isEmpty { return }
        try withRowSelection(start: rows.lowerBound, rows: rows.count) { mem, fs in
            if H5Dread(id, T.h5NativeType, mem, fs, ch5_p_default(), buffer.baseAddress) < 0 {
                throw fail("read of rows \(rows) failed")
            }
        }
    }

    /// Where a float32 dataset's elements lie in the file, when they are one contiguous,
    /// unfiltered, allocated run of little-endian float32 inside it (what the checkpoint writer
    /// makes): the byte offset from the file's start (user block included) and the byte count.
    /// nil for anything else (chunked, compressed, external, big-endian, not yet written), which
    /// must be read through H5Dread. Lets a reader of a mapped file copy the bytes itself.
    public func contiguousExtent() throws -> (offset: Int, bytes: Int)? {
        try checkOpen()
        guard 1.littleEndian == 1 else { return nil }
        let type = H5Dget_type(id)
        if type < 0 { throw fail("cannot read datatype") }
        defer { H5Tclose(type) }
        guard H5Tequal(type, ch5_ieee_f32le()) > 0 else { return nil }
        let dcpl = H5Dget_create_plist(id)
        if dcpl < 0 { throw fail("cannot read the creation property list") }
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CONTIGUOUS, H5Pget_nfilters(dcpl) == 0, H5Pget_external_count(dcpl) == 0 else { return nil }
        let address = H5Dget_offset(id)
        guard address != ch5_haddr_undef() else { return nil }
        let fcpl = H5Fget_create_plist(file.id)
        if fcpl < 0 { throw fail("cannot read the file creation property list") }
        defer { H5Pclose(fcpl) }
        var userBlock: hsize_t = 0
        if H5Pget_userblock(fcpl, &userBlock) < 0 { throw fail("cannot read the user block size") }
        let bytes = try count().multipliedReportingOverflow(by: 4)
        guard !bytes.overflow, H5Dget_storage_size(id) == hsize_t(bytes.partialValue) else { return nil }
        let (offset, overflow) = UInt64(address).addingReportingOverflow(UInt64(userBlock))
        guard !overflow, offset <= UInt64(Int.max) else { throw fail("data address \(address) is out of range") }
        return (Int(offset), bytes.partialValue)
    }

    public func readAll<T: H5Element>(as type: T.Type) throws -> [T] {
        let n = try count()
        var out = [T](unsafeUninitializedCapacity: n) { _, c in c = n }
        try out.withUnsafeMutableBufferPointer { try read(into: $0) }
        return out
    }

    public func read<T: H5Element>(rows: Range<Int>, as type: T.Type) throws -> [T] {
        let n = rows.count * (try rowElements())
        var out = [T](unsafeUninitializedCapacity: n) { _, c in c = n }
        try out.withUnsafeMutableBufferPointer { try read(rows: rows, into: $0) }
        return out
    }

    // MARK: strings

    /// Writes every string of a string dataset.
    public func writeStrings(_ values: [String]) throws {
        let n = try count()
        if values.count != n { throw fail("write of \(values.count) strings into \(n) elements") }
        try writeStrings(rows: values, at: 0)
    }

    /// Writes strings into rows start..<start+count of a 1-D string dataset.
    public func writeStrings(rows values: [String], at start: Int) throws {
        try checkOpen()
        try checkType(.string)
        if values.isEmpty { return }
        let t = h5MakeVarStringType()
        defer { H5Tclose(t) }
        try withRowSelection(start: start, rows: values.count) { mem, fs in
            try withCStringArray(values) { ptrs in
                let rc = ptrs.withUnsafeBufferPointer { H5Dwrite(id, t, mem, fs, ch5_p_default(), $0.baseAddress) }
                if rc < 0 { throw fail("string write of rows \(start)..<\(start + values.count) failed") }
            }
        }
    }

    public func readStrings() throws -> [String] {
        let s = try shape()
        return try readStrings(rows: 0..<(s.first ?? 0))
    }

    /// Reads rows of a 1-D variable-length string dataset; HDF5's allocations are reclaimed.
    public func readStrings(rows: Range<Int>) throws -> [String] {
        try checkOpen()
        try checkType(.string)
        if rows.isEmpty { return [] }
        let ft = H5Dget_type(id)
        defer { H5Tclose(ft) }
        if H5Tis_variable_str(ft) <= 0 { return try readFixedStrings(rows: rows, fileType: ft) }
        let t = h5MakeVarStringType()
        defer { H5Tclose(t) }
        return try withRowSelection(start: rows.lowerBound, rows: rows.count) { mem, fs in
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: rows.count * (try rowElements()))
            if H5Dread(id, t, mem, fs, ch5_p_default(), &ptrs) < 0 { throw fail("string read of rows \(rows) failed") }
            let out = ptrs.map { p in p.map { String(cString: $0) } ?? "" }
            H5Dvlen_reclaim(t, mem, ch5_p_default(), &ptrs)
            return out
        }
    }

    /// Fixed-length strings (as numpy 'S' arrays written by h5py): NUL-padded, trimmed on read.
    private func readFixedStrings(rows: Range<Int>, fileType: hid_t) throws -> [String] {
        let size = H5Tget_size(fileType)
        let mt = H5Tcopy(fileType)
        defer { H5Tclose(mt) }
        return try withRowSelection(start: rows.lowerBound, rows: rows.count) { mem, fs in
            let n = rows.count * (try rowElements())
            var bytes = [UInt8](repeating: 0, count: n * size)
            if H5Dread(id, mt, mem, fs, ch5_p_default(), &bytes) < 0 { throw fail("string read of rows \(rows) failed") }
            return (0..<n).map { i in
                let slice = bytes[(i * size)..<((i + 1) * size)]
                return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }

    // MARK: attributes

    public func setAttribute(_ name: String, _ value: H5AttributeValue) throws {
        try checkOpen()
        try h5WriteAttribute(loc: id, name: name, value: value, path: file.path, key: "\(key)@\(name)")
    }

    public func attribute(_ name: String) throws -> H5AttributeValue {
        try checkOpen()
        return try h5ReadAttribute(loc: id, name: name, path: file.path, key: "\(key)@\(name)")
    }

    public func hasAttribute(_ name: String) -> Bool {
        id >= 0 && file.isOpen && H5Aexists(id, name) > 0
    }
}
