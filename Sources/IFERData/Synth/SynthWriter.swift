import Foundation

/// Encodes RGB8 pixels into a file's bytes. The default goes through IFERIO's PNG and JPEG
/// encoders; tests may substitute their own.
public protocol SynthImageEncoder: Sendable {
    func encode(width: Int, height: Int, rgb: [UInt8], as type: SynthFileType) throws -> [UInt8]
}

public enum SynthError: Error, CustomStringConvertible, Equatable {
    case badOption(String)
    case unwritable(path: String, reason: String)
    case encode(path: String, reason: String)

    public var description: String {
        switch self {
        case let .badOption(m): return "ifer synth: \(m)"
        case let .unwritable(path, reason): return "ifer synth: cannot write \(path): \(reason)"
        case let .encode(path, reason): return "ifer synth: cannot encode \(path): \(reason)"
        }
    }
}

public struct SynthOptions: Sendable {
    public var layout: SynthLayout
    public var count: Int
    public var resolution: Int
    public var seed: UInt64
    /// Worker threads rendering and writing images.
    public var jobs: Int
    /// Delete what an earlier run of this layout left in the output directory first. Without it
    /// such leftovers are an error: stale images in a class folder or an FFHQ tree would be read
    /// as part of the new dataset.
    public var overwrite: Bool

    public init(layout: SynthLayout, count: Int, resolution: Int, seed: UInt64 = 0, jobs: Int = 2, overwrite: Bool = false) {
        self.layout = layout; self.count = count; self.resolution = resolution; self.seed = seed; self.jobs = jobs
        self.overwrite = overwrite
    }

    public static let minCount = 7, minResolution = 16, maxResolution = 4096

    public func validate() throws {
        guard count >= SynthOptions.minCount else {
            throw SynthError.badOption("--count must be at least \(SynthOptions.minCount) (one face per expression), got \(count)")
        }
        guard resolution >= SynthOptions.minResolution && resolution <= SynthOptions.maxResolution else {
            throw SynthError.badOption("--resolution must be in \(SynthOptions.minResolution)...\(SynthOptions.maxResolution), got \(resolution)")
        }
        guard jobs >= 1 else { throw SynthError.badOption("--jobs must be at least 1, got \(jobs)") }
    }
}

/// What was written: every item and its face box / landmarks / file size.
public struct SynthResult {
    public var items: [SynthItem]
    public var faces: [SynthFaceRecord]
}

/// Per-image facts the index files need.
public struct SynthFaceRecord: Sendable {
    public var faceBox: (x: Int, y: Int, width: Int, height: Int)
    public var landmarks: [Point]
    public var fileSize: Int
}

/// Renders and writes a whole dataset: plans the items, renders and writes the images on
/// `jobs` threads (each file depends only on its item, so the output is the same for any
/// thread count), then writes the layout's label and index files.
public enum SynthWriter {
    public static func write(_ options: SynthOptions, to root: URL, encoder: SynthImageEncoder) throws -> SynthResult {
        try options.validate()
        try prepare(root)
        try clearEarlierRun(root, options)
        let items = SynthPlan.items(layout: options.layout, count: options.count, resolution: options.resolution, seed: options.seed)
        for dir in Set(items.map { ($0.path as NSString).deletingLastPathComponent }).sorted() {
            try makeDirectory(root.appendingPathComponent(dir))
        }

        let box = ResultBox(count: items.count)
        let jobs = min(options.jobs, items.count)
        DispatchQueue.concurrentPerform(iterations: jobs) { worker in
            var i = worker
            while i < items.count && !box.failed {
                do { box.set(i, try writeImage(items[i], options, root, encoder)) } catch { box.fail(i, error) }
                i += jobs
            }
        }
        if let error = box.firstError { throw error }
        let faces = box.records.compactMap { $0 }
        let result = SynthResult(items: items, faces: faces)
        try SynthIndexFiles.write(options, result, root)
        return result
    }

    static func writeImage(_ item: SynthItem, _ o: SynthOptions, _ root: URL, _ encoder: SynthImageEncoder) throws -> SynthFaceRecord {
        let face = FaceRenderer.render(seed: o.seed, sample: item.sample, expression: item.face, resolution: o.resolution)
        let bytes: [UInt8]
        do {
            bytes = try encoder.encode(width: face.width, height: face.height, rgb: face.pixels, as: o.layout.fileType)
        } catch {
            throw SynthError.encode(path: item.path, reason: "\(error)")
        }
        try writeFile(Data(bytes), root.appendingPathComponent(item.path))
        return SynthFaceRecord(faceBox: face.faceBox, landmarks: face.landmarks, fileSize: bytes.count)
    }

    /// Creates the output directory and checks that files can be created in it.
    static func prepare(_ root: URL) throws {
        try makeDirectory(root)
        let probe = root.appendingPathComponent(".ifer-synth-probe-\(ProcessInfo.processInfo.processIdentifier)")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
            throw SynthError.unwritable(path: root.path, reason: "cannot create files in this directory")
        }
        try? FileManager.default.removeItem(at: probe)
    }

    /// Top-level entries of `root` that this layout writes (any `images<R>x<R>` folder for FFHQ).
    static func ownEntries(_ root: URL, _ layout: SynthLayout) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let fixed: [String]
        switch layout {
        case .ffhq: fixed = ["ffhq-dataset-v2.json"]
        case .celebahq: fixed = ["CelebA-HQ-img", "CelebA-HQ-to-CelebA-mapping.txt", "list_eval_partition.txt"]
        case .affectnet: fixed = ["Manually_Annotated_Images", "training.csv", "validation.csv"]
        case .rafdb: fixed = ["Image", "EmoLabel"]
        case .sfew: fixed = ["Train", "Val"]
        }
        return names.filter { name in
            if fixed.contains(name) { return true }
            guard layout == .ffhq, name.hasPrefix("images") else { return false }
            let size = name.dropFirst("images".count).split(separator: "x", omittingEmptySubsequences: false)
            return size.count == 2 && size.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        }.sorted()
    }

    /// Marks a directory as holding synth output of a layout, so a rerun may replace it.
    static func markerName(_ layout: SynthLayout) -> String { ".ifer-synth-\(layout.rawValue)" }

    /// Replaces an earlier synth run of this layout (recognised by its marker file); refuses to
    /// touch the layout's files otherwise (they may be the real dataset) unless `overwrite`.
    static func clearEarlierRun(_ root: URL, _ o: SynthOptions) throws {
        let old = ownEntries(root, o.layout)
        let marker = root.appendingPathComponent(markerName(o.layout))
        defer { FileManager.default.createFile(atPath: marker.path, contents: Data("written by ifer synth\n".utf8)) }
        guard !old.isEmpty else { return }
        guard o.overwrite || FileManager.default.fileExists(atPath: marker.path) else {
            throw SynthError.unwritable(path: root.path, reason: "it already holds \(o.layout.rawValue) files not written by ifer synth (\(old.joined(separator: ", "))); "
                + "choose a new directory or pass --overwrite to delete them first")
        }
        for name in old {
            do { try FileManager.default.removeItem(at: root.appendingPathComponent(name)) } catch {
                throw SynthError.unwritable(path: root.appendingPathComponent(name).path, reason: "cannot delete: \(error.localizedDescription)")
            }
        }
    }

    static func makeDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SynthError.unwritable(path: url.path, reason: "exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw SynthError.unwritable(path: url.path, reason: whyNotCreatable(url, error))
        }
    }

    /// Foundation's message for a failed mkdir is often just "error 512": name the ancestor at fault.
    static func whyNotCreatable(_ url: URL, _ error: Error) -> String {
        var ancestor = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDir) {
            ancestor = ancestor.deletingLastPathComponent()
        }
        _ = FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDir)
        if !isDir.boolValue { return "\(ancestor.path) is a file, not a directory" }
        if !FileManager.default.isWritableFile(atPath: ancestor.path) { return "no permission to create entries in \(ancestor.path)" }
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return error.localizedDescription
    }

    public static func writeFile(_ data: Data, _ url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw SynthError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    static func writeText(_ text: String, _ root: URL, _ rel: String) throws {
        try writeFile(Data(text.utf8), root.appendingPathComponent(rel))
    }
}

/// Results gathered from the worker threads; the first error by item index wins so the
/// message does not depend on thread timing.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var records: [SynthFaceRecord?]
    private var errors: [(Int, Error)] = []

    init(count: Int) { records = Array(repeating: nil, count: count) }

    var failed: Bool { lock.lock(); defer { lock.unlock() }; return !errors.isEmpty }
    var firstError: Error? { lock.lock(); defer { lock.unlock() }; return errors.min { $0.0 < $1.0 }?.1 }

    func set(_ i: Int, _ r: SynthFaceRecord) { lock.lock(); records[i] = r; lock.unlock() }
    func fail(_ i: Int, _ e: Error) { lock.lock(); errors.append((i, e)); lock.unlock() }
}
