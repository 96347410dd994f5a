import ArgumentParser
import Foundation
import IFERTrain

/// `ifer predict --checkpoint CKPT|RUN_DIR IMAGE... [--top K] [--json]`: the expression of each
/// face image (PNG or JPEG of any kind the shard coordinator reads), prepared as sharding does:
/// the centred square of the image, resampled with anti-aliasing to the model's input size.
/// An unreadable image is reported naming the file (on stderr, and with --json also as a line
/// {"image": FILE, "error": MESSAGE} on stdout); the others are still classified, and the exit
/// status is 1 when any failed.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Classify face images (PNG / JPEG) with an ifer-stage checkpoint.")

    @Option(help: "A checkpoint file, or a run folder (its newest valid checkpoint).")
    var checkpoint: String

    @Option(help: "How many of the most likely classes to print per image.")
    var top: Int = 3

    @Flag(help: "One JSON line per image.")
    var json = false

    @Argument(help: "Image files.")
    var images: [String]

    func run() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        let path = try resolveCheckpoint(checkpoint, comm: SingleProcess())
        let trained = try TrainedClassifier.load(path)
        let side = trained.model.inputSize
        var failed = 0
        for file in images {
            do {
                let x = try faceImageTensor(file, side: side)
                let probs = try trained.probabilities(x)[0]
                report(file, probs, trained.classNames)
            } catch {
                failed += 1
                let raw = "\(error)"
                let message = raw.contains(file) ? raw : file + ": " + raw
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
                if json { printJSON(["image": file, "error": message]) }
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    private func report(_ file: String, _ probs: [Float], _ names: [String]) {
        let order = probs.indices.sorted { probs[$0] > probs[$1] }.prefix(top)
        if json {
            let record: [String: Any] = [
                "image": file, "class": names[order.first ?? 0], "index": order.first ?? 0,
                "probability": Double(probs[order.first ?? 0]),
                "top": order.map { ["class": names[$0], "probability": Double(probs[$0])] as [String: Any] },
            ]
            printJSON(record)
            return
        }
        let rest = order.dropFirst().map { String(format: "%@ %.3f", names[$0], probs[$0]) }.joined(separator: ", ")
        let best = order.first ?? 0
        print(String(format: "%@: %@ %.3f", file, names[best], probs[best]) + (rest.isEmpty ? "" : " (\(rest))"))
    }

    private func printJSON(_ record: [String: Any]) {
        if let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
