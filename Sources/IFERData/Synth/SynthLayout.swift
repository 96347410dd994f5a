import IFERTensor

/// The real dataset layouts `ifer synth` writes (reference/ifer-method.md section 8).
public enum SynthLayout: String, CaseIterable, Sendable {
    case ffhq, celebahq, affectnet, rafdb, sfew

    /// Image file type of the real dataset.
    public var fileType: SynthFileType {
        switch self {
        case .ffhq, .sfew: return .png
        case .celebahq, .affectnet, .rafdb: return .jpeg
        }
    }

    /// The dataset's own split names and their sizes in the real release; synth keeps these
    /// proportions. The first part is the training part.
    public var splits: [(name: String, realCount: Int)] {
        switch self {
        case .ffhq: return [("training", 60_000), ("validation", 10_000)]
        case .celebahq: return [("train", 24_183), ("val", 2_993), ("test", 2_824)]
        // 7-class manually annotated training images (sum of classes 0-6) vs 7 x 500 validation.
        case .affectnet: return [("training", 283_901), ("validation", 3_500)]
        case .rafdb: return [("train", 12_271), ("test", 3_068)]
        case .sfew: return [("Train", 958), ("Val", 436)]
        }
    }

    /// Class names in the order shards store labels (index 0 first); empty for the unlabelled
    /// face datasets.
    public var classNames: [String] {
        switch self {
        case .ffhq, .celebahq: return []
        case .affectnet: return ["Neutral", "Happiness", "Sadness", "Surprise", "Fear", "Disgust", "Anger"]
        case .rafdb: return ["Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"]
        case .sfew: return ["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]
        }
    }

    /// The label this layout writes for an expression: AffectNet's code, RAF-DB's 1-based id,
    /// SFEW's folder index; nil for unlabelled layouts.
    public func label(_ e: FaceExpression) -> Int? {
        switch self {
        case .ffhq, .celebahq: return nil
        case .affectnet: return e.affectNetCode
        case .rafdb: return e.rafdbLabel
        case .sfew: return classNames.firstIndex(of: e.sfewFolder)
        }
    }
}

public enum SynthFileType: String, Sendable {
    case png, jpeg
}

/// One image to write.
public struct SynthItem: Sendable, Equatable {
    /// Render key: the item's position in the plan. Sample i of a seed is the same person in
    /// every layout.
    public var sample: Int
    /// Image path relative to the output root.
    public var path: String
    /// The dataset's split name (`SynthLayout.splits`).
    public var split: String
    /// Position within its split (0-based), used for the dataset's numbered file names.
    public var indexInSplit: Int
    /// What is drawn; nil draws only the background (AffectNet "No-Face" rows).
    public var face: FaceExpression?
    /// The label as the dataset's own files encode it (AffectNet 0-10, RAF-DB 1-7, SFEW folder
    /// index); nil for FFHQ and CelebA-HQ.
    public var label: Int?
}

/// Splits N items over a layout's parts and assigns expressions.
enum SynthPlan {
    /// Sizes of the parts: proportional to the real sizes (largest remainder), with every part
    /// after the first given at least 1 item, and at least 7 (one per class) once there are
    /// enough items for 14 per part.
    static func partSizes(count: Int, weights: [Int]) -> [Int] {
        let total = weights.reduce(0, +)
        var sizes = weights.map { count * $0 / total }
        var order = Array(weights.indices)
        order.sort { (count * weights[$0]) % total > (count * weights[$1]) % total }
        var left = count - sizes.reduce(0, +)
        for i in order where left > 0 { sizes[i] += 1; left -= 1 }
        let floor = count >= 14 * weights.count ? 7 : 1
        for i in 1..<sizes.count where sizes[i] < floor {
            let need = floor - sizes[i]
            sizes[i] += need; sizes[0] -= need
        }
        return sizes
    }

    /// How many AffectNet rows of the filtered-out codes 8-10 a split of n images carries.
    static func affectNetExtras(_ n: Int) -> Int { n >= 10 ? max(3, n / 25) : 0 }

    /// The items of a layout in file order: parts in split order; expression k % 7 for the k-th
    /// face overall (so any N >= 7 shows every class), shuffled within each part.
    static func items(layout: SynthLayout, count: Int, resolution: Int, seed: UInt64) -> [SynthItem] {
        let parts = layout.splits
        let sizes = partSizes(count: count, weights: parts.map(\.realCount))
        var items: [SynthItem] = []
        var faceIndex = 0
        for (p, part) in parts.enumerated() {
            let n = sizes[p]
            let extras = layout == .affectnet ? affectNetExtras(n) : 0
            // Slots: faces first (cycling classes), then extra codes 8, 9, 10, ...; then shuffle.
            var slots: [(face: FaceExpression?, label: Int?)] = []
            for _ in 0..<(n - extras) {
                let e = FaceExpression.allCases[faceIndex % 7]
                faceIndex += 1
                slots.append((e, layout.label(e)))
            }
            for k in 0..<extras {
                let code = 8 + k % 3
                // 8 None and 9 Uncertain still show a face; 10 No-Face shows only background.
                slots.append((code == 10 ? nil : FaceExpression.allCases[k % 7], code))
            }
            var g = Philox(seed: seed, 0x5917_5B17, UInt64(p))
            let perm = g.permutation(n)
            for k in 0..<n {
                let s = slots[perm[k]]
                let sample = items.count
                let path = SynthPaths.path(layout: layout, split: part.name, partIndex: p, indexInSplit: k,
                                           sample: sample, face: s.face, resolution: resolution, seed: seed)
                items.append(SynthItem(sample: sample, path: path, split: part.name, indexInSplit: k, face: s.face, label: s.label))
            }
        }
        return items
    }
}

/// File names of each layout.
enum SynthPaths {
    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func path(layout: SynthLayout, split: String, partIndex: Int, indexInSplit k: Int, sample: Int,
                     face: FaceExpression?, resolution: Int, seed: UInt64) -> String {
        switch layout {
        case .ffhq:
            // images1024x1024/00000/00000.png ... in folders of 1000 named by their first index.
            return "images\(resolution)x\(resolution)/\(pad(sample / 1000 * 1000, 5))/\(pad(sample, 5)).png"
        case .celebahq:
            return "CelebA-HQ-img/\(sample).jpg"
        case .affectnet:
            return "Manually_Annotated_Images/\(1 + sample / 400)/\(hexName(seed: seed, sample: sample)).jpg"
        case .rafdb:
            // train_00001_aligned.jpg, test_0001_aligned.jpg (1-based).
            return "Image/aligned/\(rafdbName(split: split, indexInSplit: k, aligned: true))"
        case .sfew:
            let folder = (face ?? .neutral).sfewFolder
            return "\(split)/\(folder)/\(sfewName(sample: sample))"
        }
    }

    static func rafdbName(split: String, indexInSplit k: Int, aligned: Bool) -> String {
        let stem = split == "train" ? "train_\(pad(k + 1, 5))" : "test_\(pad(k + 1, 4))"
        return aligned ? stem + "_aligned.jpg" : stem + ".jpg"
    }

    /// SFEW names frames <Movie>_<frame>_<face>.png.
    static func sfewName(sample: Int) -> String { "Synth_\(pad(sample, 9))_\(pad(1, 8)).png" }

    /// AffectNet names images by a 56-hex-digit hash; ours is drawn from (seed, sample).
    static func hexName(seed: UInt64, sample: Int) -> String {
        var g = Philox(seed: seed, 0xAFFE_C7, UInt64(sample))
        var s = ""
        for _ in 0..<7 {
            let h = String(g.next(), radix: 16)
            s += String(repeating: "0", count: 8 - h.count) + h
        }
        return s
    }
}
