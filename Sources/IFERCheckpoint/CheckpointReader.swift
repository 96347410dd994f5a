// Reads checkpoints. The whole file's SHA-256 is compared with its sidecar BEFORE the HDF5
// library opens the file, so a corrupt or hostile file never reaches the parser; every dataset's
// own checksum is verified as it is read.
import Foundation
import IFERIO
import IFERTensor

/// Root attributes of a checkpoint.
public struct CheckpointHeader: Equatable {
    public var formatVersion: Int
    public var stage: String
    public var step: Int
    public var epoch: Int
    public var worldSize: Int
    public var config: String
    public var architecture: String
    public var createdAt: String
    /// The class names of a classifier's outputs, in order (root attribute `class_names`;
    /// empty for other stages and for checkpoints written before it existed).
    public var classNames: [String] = []
}

public final class CheckpointReader {
    public let path: String
    public let header: CheckpointHeader
    /// The file, mapped once: hashed, guard-checked and parsed in place (MappedFile).
    private let mapped: MappedFile
    private let file: H5File

    /// Verifies the sidecar hash (unless `verifyFileHash` is false), opens the file and checks
    /// the format name and version. One pass over the mapped file computes the SHA-256 and finds
    /// the global heaps H5Guard checks; HDF5 then reads the same mapped bytes, and tensors are
    /// copied (and their dataset checksums computed) straight from them.
    public init(path: String, verifyFileHash: Bool = true) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(.io, path: path, "no such file") }
        let expected = verifyFileHash ? try CheckpointReader.sidecarDigest(path) : nil
        do {
            mapped = try MappedFile(path: path, readAhead: true)
        } catch let e as IOError {
            throw CheckpointError(.corrupt, path: path, "cannot read: \(e.message)")
        }
        let (actual, heaps) = mapped.scan(hashing: verifyFileHash)
        if let expected, actual != expected {
            throw CheckpointError(.corrupt, path: path,
                                  "SHA-256 mismatch (file \(actual ?? ""), \(CheckpointFormat.sidecarPath(for: path)) says \(expected)): corrupt or modified; refusing to open")
        }
        do {
            try mapped.checkHeaps(heaps)
            file = try H5File(image: mapped)
        } catch let e as IOError {
            throw CheckpointError(.corrupt, path: path, "cannot open as HDF5: \(e.message)")
        }
        header = try CheckpointReader.readHeader(file, path: path)
    }

    deinit { file.close() }

    public func close() { file.close() }

    /// The lower-case hex SHA-256 that `<path>.sha256` holds; throws `.corrupt` naming the file
    /// when it is missing or holds none.
    static func sidecarDigest(_ path: String) throws -> String {
        let sidecar = CheckpointFormat.sidecarPath(for: path)
        guard let data = FileManager.default.contents(atPath: sidecar) else {
            throw CheckpointError(.corrupt, path: path, "missing checksum file \(sidecar); refusing to open an unverified checkpoint")
        }
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        let expected = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).first.map(String.init) ?? ""
        guard expected.count == 64, expected.allSatisfy({ $0.isHexDigit }) else {
            throw CheckpointError(.corrupt, path: path, "checksum file \(sidecar) does not hold a SHA-256")
        }
        return expected.lowercased()
    }

    /// Compares the file's SHA-256 with `<path>.sha256` (reading the file with
    /// SHA256.hexHash(file:)); throws `.corrupt` naming the file. What `init` does in its one pass.
    public static func verifySidecar(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(.io, path: path, "no such file") }
        let expected = try sidecarDigest(path)
        let actual: String
        do { actual = try SHA256.hexHash(file: path) } catch { throw CheckpointError(.io, path: path, "\(error)") }
        if actual != expected {
            throw CheckpointError(.corrupt, path: path,
                                  "SHA-256 mismatch (file \(actual), \(CheckpointFormat.sidecarPath(for: path)) says \(expected)): corrupt or modified; refusing to open")
        }
    }

    private static func readHeader(_ f: H5File, path: String) throws -> CheckpointHeader {
        func attr(_ name: String) throws -> H5AttributeValue {
            do { return try f.attribute(name) } catch {
                throw CheckpointError(.corrupt, path: path, "missing root attribute '\(name)': not an ifer checkpoint")
            }
        }
        func string(_ name: String) throws -> String {
            guard let s = try attr(name).stringValue else { throw CheckpointError(.corrupt, path: path, "root attribute '\(name)' is not a string") }
            return s
        }
        func int(_ name: String) throws -> Int {
            guard let v = try attr(name).int64Value else { throw CheckpointError(.corrupt, path: path, "root attribute '\(name)' is not an integer") }
            return Int(v)
        }
        let format = try string("format")
        if format != CheckpointFormat.name {
            throw CheckpointError(.corrupt, path: path, "format is '\(format)', expected '\(CheckpointFormat.name)'")
        }
        let version = try int("format_version")
        if version > CheckpointFormat.version {
            throw CheckpointError(.incompatible, path: path,
                                  "format_version \(version) is newer than this build supports (\(CheckpointFormat.version)); upgrade ifer to read it")
        }
        if version < 1 { throw CheckpointError(.corrupt, path: path, "invalid format_version \(version)") }
        let arch = f.hasAttribute("architecture") ? try string("architecture") : ""
        var names: [String] = []
        if f.hasAttribute("class_names") {
            guard let n = try attr("class_names").stringsValue else {
                throw CheckpointError(.corrupt, path: path, "root attribute 'class_names' is not a list of strings")
            }
            names = n
        }
        return CheckpointHeader(formatVersion: version, stage: try string("stage"), step: try int("step"), epoch: try int("epoch"),
                                worldSize: try int("world_size"), config: try string("config"), architecture: arch,
                                createdAt: try string("created_at"), classNames: names)
    }

    /// Refuses a checkpoint of another stage or architecture with a message saying both.
    public func checkCompatible(stage: String, architecture: String? = nil) throws {
        if header.stage != stage {
            throw CheckpointError(.incompatible, path: path, "was written by stage '\(header.stage)', this run is stage '\(stage)'")
        }
        if let architecture, !architecture.isEmpty, !header.architecture.isEmpty, header.architecture != architecture {
            throw CheckpointError(.incompatible, path: path,
                                  "holds architecture '\(header.architecture)', this run builds '\(architecture)'")
        }
    }

    // MARK: listing

    /// Dataset keys (relative to `group`) and shapes, in name order. A shape is refused when it
    /// claims more elements than the file has bytes (checkpoints store every element,
    /// uncompressed), so a crafted header cannot make the reader allocate what the file lacks.
    func datasets(under group: String) throws -> [(key: String, shape: [Int])] {
        guard file.exists(group) else { return [] }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        do {
            return try file.members(of: group).filter { $0.kind == .dataset }.map { m in
                let ds = try file.openDataset(m.path)
                defer { ds.close() }
                let shape = try ds.shape()
                let n = try ds.count()
                if n > bytes {
                    throw CheckpointError(.corrupt, path: path, "\(m.path): shape \(shape) claims \(n) elements, more than the file's \(bytes) bytes")
                }
                return (String(m.path.dropFirst(group.count + 1)), shape)
            }
        } catch let e as IOError { throw CheckpointError(.corrupt, path: path, "\(e.key ?? group): \(e.message)") }
    }

    /// Parameter keys and shapes (no data read).
    public func parameterShapes() throws -> [(key: String, shape: [Int])] { try datasets(under: CheckpointFormat.params) }
    public func bufferShapes() throws -> [(key: String, shape: [Int])] { try datasets(under: CheckpointFormat.buffers) }

    public func optimizerNames() throws -> [String] {
        guard file.exists(CheckpointFormat.optimizer) else { return [] }
        return try file.members(of: CheckpointFormat.optimizer, recursive: false).map { ($0.path as NSString).lastPathComponent }
    }

    public func rankCount() throws -> Int {
        guard file.exists(CheckpointFormat.ranks) else { return 0 }
        return try file.members(of: CheckpointFormat.ranks, recursive: false).count
    }

    // MARK: data with checksums

    /// Reads a float32 dataset into `t` (same element count) and verifies its checksum.
    func readTensor(_ key: String, into t: Tensor) throws {
        try readTensors([(key, t)])
    }

    /// Reads float32 datasets straight into their tensors (same element counts) and verifies
    /// every dataset checksum. The HDF5 library (single-threaded) only locates each dataset; a
    /// dataset stored as one contiguous run of float32 (all that our writer makes) is then copied
    /// from the mapped file and hashed in the same pass, the datasets split over the hashing
    /// threads (Checksums.copyAndHash). Anything else is read with H5Dread and hashed after.
    /// The first mismatch in `items` order is reported.
    func readTensors(_ items: [(key: String, tensor: Tensor)]) throws {
        var stored: [String] = []
        var direct: [(source: UnsafeRawBufferPointer, tensor: Tensor)] = []
        var directIndex: [Int] = []
        stored.reserveCapacity(items.count)
        for (i, (key, t)) in items.enumerated() {
            do {
                let ds = try file.openDataset(key)
                defer { ds.close() }
                if try ds.dtype() != .float32 { throw CheckpointError(.corrupt, path: path, "\(key): expected float32, found \(try ds.dtype())") }
                let n = try ds.count()
                if n != t.count { throw CheckpointError(.corrupt, path: path, "\(key): holds \(n) elements, the tensor has \(t.count)") }
                stored.append(try storedChecksum(ds))
                if let extent = try ds.contiguousExtent(), extent.offset <= mapped.bytes.count - extent.bytes {
                    direct.append((UnsafeRawBufferPointer(rebasing: mapped.bytes[extent.offset..<(extent.offset + extent.bytes)]), t))
                    directIndex.append(i)
                } else {
                    try ds.read(into: t.buffer)
                }
            } catch let e as IOError { throw CheckpointError(.corrupt, path: path, "\(e.key ?? key): \(e.message)") }
        }
        var have = [String](repeating: "", count: items.count)
        let copied = Checksums.copyAndHash(direct.map { ($0.source, UnsafeMutableRawPointer($0.tensor.ptr)) })
        for (k, i) in directIndex.enumerated() { have[i] = copied[k] }
        let viaHDF5 = items.indices.filter { have[$0].isEmpty }
        for (k, digest) in Checksums.hexDigests(viaHDF5.map { items[$0].tensor }).enumerated() { have[viaHDF5[k]] = digest }
        for (i, (key, _)) in items.enumerated() where have[i] != stored[i] {
            throw CheckpointError(.corrupt, path: path, "\(key): dataset checksum mismatch (\(have[i]) vs stored \(stored[i]))")
        }
    }

    func readArray<T: H5Element>(_ key: String, as: T.Type) throws -> [T] {
        do {
            let ds = try file.openDataset(key)
            defer { ds.close() }
            let v = try ds.readAll(as: T.self)
            try v.withUnsafeBytes { try verify(ds, $0) }
            return v
        } catch let e as IOError { throw CheckpointError(.corrupt, path: path, "\(e.key ?? key): \(e.message)") }
    }

    private func storedChecksum(_ ds: H5Dataset) throws -> String {
        guard let want = try? ds.attribute(CheckpointFormat.datasetChecksumAttribute).stringValue else {
            throw CheckpointError(.corrupt, path: path, "\(ds.key): missing '\(CheckpointFormat.datasetChecksumAttribute)' attribute")
        }
        return want
    }

    private func verify(_ ds: H5Dataset, _ bytes: UnsafeRawBufferPointer) throws {
        let want = try storedChecksum(ds)
        let have = SHA256.hexHash(bytes)
        if have != want { throw CheckpointError(.corrupt, path: path, "\(ds.key): dataset checksum mismatch (\(have) vs stored \(want))") }
    }

    /// Reads one named tensor group fully (params or buffers).
    private func readTensors(under group: String) throws -> [(key: String, tensor: Tensor)] {
        let out = try datasets(under: group).map { (key, shape) in
            let t = Tensor(zeros: shape)
            t.name = key
            return (key: key, tensor: t)
        }
        try readTensors(out.map { ("\(group)/\($0.key)", $0.tensor) })
        return out
    }

    public func optimizer(_ name: String) throws -> OptimizerState {
        let base = "\(CheckpointFormat.optimizer)/\(name)"
        var o = OptimizerState(name: name)
        for (key, shape) in try datasets(under: base) {
            let full = "\(base)/\(key)"
            switch try file.dtype(of: full) {
            case .float32: o.tensors.append((key, Tensor(zeros: shape)))  // read below, all at once
            case .int64: o.int64s.append((key, try readArray(full, as: Int64.self)))
            case .float64 where shape.isEmpty: o.scalars.append((key, try readArray(full, as: Double.self)[0]))
            case let other: throw CheckpointError(.corrupt, path: path, "\(full): unexpected \(other) dataset of shape \(shape)")
            }
        }
        try readTensors(o.tensors.map { ("\(base)/\($0.key)", $0.tensor) })
        return o
    }

    public func ranks() throws -> [RankState] {
        try (0..<rankCount()).map { r in
            RankState(rng: try readArray("\(CheckpointFormat.ranks)/\(r)/rng", as: UInt64.self),
                      cursor: try readArray("\(CheckpointFormat.ranks)/\(r)/cursor", as: Int64.self))
        }
    }

    /// The whole state (all tensors in memory).
    public func readState() throws -> CheckpointState {
        var s = CheckpointState(stage: header.stage, step: header.step, epoch: header.epoch, worldSize: header.worldSize,
                                config: header.config, architecture: header.architecture,
                                params: try readTensors(under: CheckpointFormat.params),
                                buffers: try readTensors(under: CheckpointFormat.buffers),
                                optimizers: try optimizerNames().map { try optimizer($0) }, ranks: try ranks(),
                                createdAt: header.createdAt)
        s.formatVersion = header.formatVersion
        s.classNames = header.classNames
        return s
    }

    /// Verifies, opens and reads a whole checkpoint.
    public static func load(_ path: String) throws -> CheckpointState {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        return try r.readState()
    }

    // MARK: loading into a model

    /// Copies the checkpoint's params and buffers into the given tensors, reading straight into
    /// them (no second copy of the model). Every missing, unexpected or mis-shaped tensor is
    /// reported at once, before anything is overwritten.
    /// `ignoringOthers`: tensors of the file that are not requested are fine (loading one network
    /// out of a checkpoint of several); otherwise they are reported as unexpected.
    public func loadInto(params: [(key: String, tensor: Tensor)], buffers: [(key: String, tensor: Tensor)] = [],
                         ignoringOthers: Bool = false) throws {
        var problems: [String] = []
        for (group, what, want) in [(CheckpointFormat.params, "parameter", params), (CheckpointFormat.buffers, "buffer", buffers)] {
            let found = try datasets(under: group)
            let foundShapes = Dictionary(found.map { ($0.key, $0.shape) }, uniquingKeysWith: { a, _ in a })
            let wantKeys = Set(want.map(\.key))
            for (k, t) in want {
                guard let s = foundShapes[k] else { problems.append("missing \(what) \(k) (expected shape \(t.shape))"); continue }
                if s != t.shape { problems.append("mis-shaped \(what) \(k): expected \(t.shape), found \(s)") }
            }
            for (k, s) in found where !ignoringOthers && !wantKeys.contains(k) { problems.append("unexpected \(what) \(k) (shape \(s))") }
        }
        if !problems.isEmpty {
            throw CheckpointError(.stateMismatch, path: path,
                                  "does not match the model (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n  "
                                    + problems.joined(separator: "\n  "))
        }
        try readTensors(params.map { ("\(CheckpointFormat.params)/\($0.key)", $0.tensor) }
                        + buffers.map { ("\(CheckpointFormat.buffers)/\($0.key)", $0.tensor) })
    }
}
