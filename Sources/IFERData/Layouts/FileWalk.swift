import Foundation

/// File-system helpers shared by the layout scanners.
enum FileWalk {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    static func isImageName(_ name: String) -> Bool {
        imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && !d.boolValue
    }

    /// Sorted entries of a directory, hidden names left out; [] when unreadable.
    static func list(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Every file with an image extension under `dir`, as paths relative to `dir`, sorted.
    /// Files with other extensions (README, LICENSE, JSON metadata) are not sources and are ignored.
    static func images(under dir: String) -> [String] {
        var out: [String] = []
        func walk(_ rel: String) {
            let abs = rel.isEmpty ? dir : dir + "/" + rel
            for name in list(abs) {
                let r = rel.isEmpty ? name : rel + "/" + name
                if isDirectory(dir + "/" + r) { walk(r) } else if isImageName(name) { out.append(r) }
            }
        }
        walk("")
        return out.sorted()
    }

    /// The first of `names` that exists (case-insensitively) as a child of `dir`, as its real name.
    static func child(_ dir: String, _ names: [String], directory: Bool? = nil) -> String? {
        let entries = list(dir)
        for want in names {
            if let hit = entries.first(where: { $0.lowercased() == want.lowercased() }) {
                let p = dir + "/" + hit
                if let d = directory, d != isDirectory(p) { continue }
                return hit
            }
        }
        return nil
    }

    /// Reads a text file, naming it in the error.
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.missingFile(path: path, detail: "cannot read file")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Lines of a text file without line terminators (LF or CRLF), blank lines kept out,
    /// each with its 1-based line number.
    static func lines(_ text: String) -> [(Int, String)] {
        var out: [(Int, String)] = []
        var n = 0
        // Split on the byte: Swift treats "\r\n" as one Character, so a Character split would miss it.
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            n += 1
            var bytes = Array(raw)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            let s = String(decoding: bytes, as: UTF8.self)
            if s.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            out.append((n, s))
        }
        return out
    }
}
