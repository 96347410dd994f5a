import ArgumentParser
import Foundation
import IFERTrain

extension SynthLayout: ExpressibleByArgument {}

/// `ifer synth`: the embedded default dataset. Renders synthetic faces showing the seven basic
/// expressions and writes them in a real dataset's layout, so `ifer shard` reads them through
/// the same code paths as the real data.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a synthetic face dataset in a real dataset layout.",
        discussion: """
        Writes --count images in all, split over the layout's parts in the real dataset's \
        proportions, each face showing one of the 7 basic expressions. The same --seed gives the \
        same bytes. Layouts: ffhq (PNG tree in folders of 1000 + ffhq-dataset-v2.json), celebahq \
        (numbered JPEGs + mapping + eval partition), affectnet (Manually_Annotated_Images + \
        training.csv / validation.csv), rafdb (RAF-DB basic: Image/aligned + EmoLabel), sfew \
        (Train/ and Val/ class folders of PNGs). See docs/datasets.md.
        With --preview FILE only, writes a PNG contact sheet (7 expressions x 4 identities).
        """)

    @Option(help: "Dataset layout: \(SynthLayout.allCases.map(\.rawValue).joined(separator: ", ")).")
    var layout: SynthLayout?

    @Option(help: "Output directory (created if missing).")
    var out: String?

    @Option(help: "Number of images in all (at least 7).")
    var count: Int = 700

    @Option(help: "Image side in pixels (16...4096).")
    var resolution: Int = 64

    @Option(help: "Random seed; the output is a pure function of the seed and the options.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads rendering and writing images.")
    var jobs: Int = 2

    @Flag(help: "Delete this layout's files in --out even if ifer synth did not write them (its own earlier output is always replaced).")
    var overwrite = false

    @Option(help: "Write a PNG contact sheet of the faces to this file.")
    var preview: String?

    func validate() throws {
        if preview == nil || layout != nil || out != nil {
            guard layout != nil else { throw ValidationError("missing --layout (one of \(SynthLayout.allCases.map(\.rawValue).joined(separator: ", ")))") }
            guard out != nil else { throw ValidationError("missing --out DIR") }
        }
        guard count >= SynthOptions.minCount else {
            throw ValidationError("--count must be at least \(SynthOptions.minCount) (one face per expression), got \(count)")
        }
        guard resolution >= SynthOptions.minResolution && resolution <= SynthOptions.maxResolution else {
            throw ValidationError("--resolution must be in \(SynthOptions.minResolution)...\(SynthOptions.maxResolution), got \(resolution)")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    }

    func run() throws {
        let encoder = IFERIOSynthEncoder()
        if let preview {
            let grid = SynthPreview.grid(seed: seed, identities: 4, cell: resolution)
            let bytes = try encoder.encode(width: grid.width, height: grid.height, rgb: grid.pixels, as: .png)
            try SynthWriter.writeFile(Data(bytes), URL(fileURLWithPath: preview))
            print("wrote \(preview) (\(grid.width)x\(grid.height))")
        }
        guard let layout, let out else { return }
        let options = SynthOptions(layout: layout, count: count, resolution: resolution, seed: seed, jobs: jobs, overwrite: overwrite)
        let start = MonotonicClock.now()
        let result = try SynthWriter.write(options, to: URL(fileURLWithPath: out), encoder: encoder)
        let seconds = MonotonicClock.now() - start
        var perSplit: [String: Int] = [:]
        for item in result.items { perSplit[item.split, default: 0] += 1 }
        let splits = layout.splits.map { "\($0.name) \(perSplit[$0.name] ?? 0)" }.joined(separator: ", ")
        let rate = Double(result.items.count) / max(seconds, 1e-9)
        print("wrote \(result.items.count) \(layout.rawValue) images (\(splits)) at \(resolution)px to \(out) "
              + "in \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", rate)) img/s)")
    }
}
