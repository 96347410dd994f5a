import Foundation
import IFERTensor

/// The label, split and metadata files of each layout, in the real datasets' formats
/// (reference/ifer-method.md section 8; docs/datasets.md).
enum SynthIndexFiles {
    static func write(_ o: SynthOptions, _ r: SynthResult, _ root: URL) throws {
        switch o.layout {
        case .ffhq: try SynthWriter.writeText(ffhqJSON(o, r), root, "ffhq-dataset-v2.json")
        case .celebahq:
            let (mapping, partition) = celebAHQ(o, r)
            try SynthWriter.writeText(mapping, root, "CelebA-HQ-to-CelebA-mapping.txt")
            try SynthWriter.writeText(partition, root, "list_eval_partition.txt")
        case .affectnet:
            let (training, validation) = affectNetCSVs(r, seed: o.seed)
            try SynthWriter.writeText(training, root, "training.csv")
            try SynthWriter.writeText(validation, root, "validation.csv")
        case .rafdb:
            try SynthWriter.makeDirectory(root.appendingPathComponent("EmoLabel"))
            try SynthWriter.writeText(rafdbLabels(r), root, "EmoLabel/list_patition_label.txt")
        case .sfew:
            break  // the class folders are the labels
        }
    }

    /// ffhq-dataset-v2.json: an object keyed by the image index ("0", "1", ...) in index order,
    /// with the official split as `category` ("training" / "validation") and the image's path,
    /// size in bytes and pixel size. (The real file also carries Flickr metadata, MD5s and
    /// in-the-wild landmarks, which have no synthetic counterpart.)
    static func ffhqJSON(_ o: SynthOptions, _ r: SynthResult) -> String {
        var lines = ["{"]
        for (i, item) in r.items.enumerated() {
            let comma = i + 1 < r.items.count ? "," : ""
            lines.append("  \"\(item.sample)\": {\"category\": \"\(item.split)\", \"image\": {\"file_path\": \"\(item.path)\", "
                + "\"file_size\": \(r.faces[i].fileSize), \"pixel_size\": [\(o.resolution), \(o.resolution)]}}\(comma)")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// CelebA's eval partition, as 0-based original indices: train 0..<162770, val
    /// 162770..<182637, test 182637..<202599 (files 000001.jpg ... 202599.jpg).
    static let celebARanges: [String: Range<Int>] = ["train": 0..<162_770, "val": 162_770..<182_637, "test": 182_637..<202_599]
    static let celebAPartitionCode: [String: Int] = ["train": 0, "val": 1, "test": 2]

    /// CelebA-HQ-to-CelebA-mapping.txt (`idx orig_idx orig_file`, header line, whitespace
    /// columns) and CelebA's list_eval_partition.txt (`<orig_file> <0|1|2>`) restricted to the
    /// mapped files. Each HQ image of split s maps to a distinct original in s's range, so the
    /// standard split falls out of the partition file exactly as with the real data.
    static func celebAHQ(_ o: SynthOptions, _ r: SynthResult) -> (String, String) {
        var orig = [Int](repeating: 0, count: r.items.count)
        for (name, range) in celebARanges {
            let members = r.items.filter { $0.split == name }.map(\.sample)
            guard !members.isEmpty else { continue }
            var g = Philox(seed: o.seed, 0xCE1E_BA, UInt64(celebAPartitionCode[name] ?? 0))
            let stride = range.count / members.count
            for (k, sample) in members.enumerated() {
                orig[sample] = range.lowerBound + k * stride + g.int(below: max(1, stride))
            }
        }
        func col(_ s: String) -> String { s.count >= 12 ? s + " " : s + String(repeating: " ", count: 12 - s.count) }
        var mapping = col("idx") + col("orig_idx") + "orig_file\n"
        for item in r.items {
            mapping += col(String(item.sample)) + col(String(orig[item.sample])) + "\(SynthPaths.pad(orig[item.sample] + 1, 6)).jpg\n"
        }
        var partition = ""
        for item in r.items.sorted(by: { orig[$0.sample] < orig[$1.sample] }) {
            partition += "\(SynthPaths.pad(orig[item.sample] + 1, 6)).jpg \(celebAPartitionCode[item.split] ?? 0)\n"
        }
        return (mapping, partition)
    }

    static let affectNetHeader = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"

    /// training.csv (with the header row) and validation.csv (without one, as in the release we
    /// model; readers must check the first field). Nine columns; landmarks are 68 x;y pairs
    /// joined by ';'; valence / arousal -2 for the Uncertain and No-Face codes.
    static func affectNetCSVs(_ r: SynthResult, seed: UInt64) -> (String, String) {
        var training = affectNetHeader + "\n", validation = ""
        for (i, item) in r.items.enumerated() {
            let f = r.faces[i]
            let rel = String(item.path.dropFirst("Manually_Annotated_Images/".count))
            let lm = f.landmarks.map { "\(fixed($0.x, 2));\(fixed($0.y, 2))" }.joined(separator: ";")
            let code = item.label ?? 8
            let (v, a) = valenceArousal(code: code, face: item.face, seed: seed, sample: item.sample)
            let row = "\(rel),\(f.faceBox.x),\(f.faceBox.y),\(f.faceBox.width),\(f.faceBox.height),\(lm),\(code),\(v),\(a)\n"
            if item.split == "training" { training += row } else { validation += row }
        }
        return (training, validation)
    }

    /// Plausible valence / arousal for each expression (circumplex model), with a little spread.
    static func valenceArousal(code: Int, face: FaceExpression?, seed: UInt64, sample: Int) -> (String, String) {
        if code == 9 || code == 10 { return ("-2", "-2") }
        let centre: (Float, Float)
        switch face ?? .neutral {
        case .neutral: centre = (0.0, 0.0)
        case .happy: centre = (0.75, 0.35)
        case .sad: centre = (-0.65, -0.3)
        case .surprise: centre = (0.2, 0.75)
        case .fear: centre = (-0.55, 0.7)
        case .disgust: centre = (-0.65, 0.3)
        case .anger: centre = (-0.6, 0.65)
        }
        var g = Philox(seed: seed, 0x7A1E_4CE, UInt64(sample))
        let v = min(max(centre.0 + g.uniform(-0.15, 0.15), -1), 1), a = min(max(centre.1 + g.uniform(-0.15, 0.15), -1), 1)
        return (fixed(v, 6), fixed(a, 6))
    }

    /// EmoLabel/list_patition_label.txt: `<name>.jpg <label>` with 1-based RAF-DB labels,
    /// train images first, each split in file-number order.
    static func rafdbLabels(_ r: SynthResult) -> String {
        var out = ""
        for split in ["train", "test"] {
            for item in r.items where item.split == split {
                out += "\(SynthPaths.rafdbName(split: split, indexInSplit: item.indexInSplit, aligned: false)) \(item.label ?? 7)\n"
            }
        }
        return out
    }

    /// Fixed-point text with `digits` decimals, without Foundation's locale-dependent formatting.
    static func fixed(_ x: Float, _ digits: Int) -> String {
        var p: Double = 1
        for _ in 0..<digits { p *= 10 }
        let scaled = (Double(x) * p).rounded()
        let neg = scaled < 0
        let m = Int(abs(scaled))
        let whole = m / Int(p), frac = m % Int(p)
        let f = String(frac)
        return (neg && m != 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }
}
