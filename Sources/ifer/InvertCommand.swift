import ArgumentParser
import Foundation
import IFERTrain

/// `ifer invert --checkpoint ASIT_CKPT IN OUT.png [--config YAML] [--pair]`: encodes a face
/// image with the ASIT encoder and renders it back with the generator (the facial inversion of
/// the paper). The input is prepared as sharding does (centre square, anti-aliased resample).
/// The output format follows the name: .png writes PNG, .jpg / .jpeg a JPEG (quality 95); any
/// other name, or an output that is the input or the checkpoint, is refused before any work.
struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert", abstract: "Invert a face image with an asit-stage checkpoint and write the reconstruction as PNG or JPEG.")

    @Option(help: "An asit-stage checkpoint (trained, or converted from the authors' weights), or its run folder.")
    var checkpoint: String

    @Option(help: "Model config, when the checkpoint holds none (converted without --config).")
    var config: String?

    @Flag(help: "Write the prepared input and the reconstruction side by side.")
    var pair = false

    @Argument(help: "Input image (PNG or JPEG).")
    var input: String

    @Argument(help: "Output image: .png, .jpg or .jpeg.")
    var output: String

    func run() throws {
        let ext = (output as NSString).pathExtension.lowercased()
        guard ["png", "jpg", "jpeg"].contains(ext) else {
            throw ValidationError("output \(output): the name must end in .png, .jpg or .jpeg (it picks the format)")
        }
        for (what, other) in [("input image", input), ("checkpoint", checkpoint)] where samePath(output, other) {
            throw ValidationError("output \(output) is the \(what) \(other); refusing to overwrite it")
        }
        let inverter = try TrainedInverter.load(try resolveCheckpoint(checkpoint, comm: SingleProcess()), configFile: config)
        let x = try faceImageTensor(input, side: inverter.inputSize)
        let y = try inverter.invert(x)
        let image = pair ? RGBImage.grid([[rgbImage(x), rgbImage(y)]]) : rgbImage(y)
        if ext == "png" { try writePNG(image, path: output) } else { try writeJPEG(image, path: output, quality: 95) }
        print("wrote \(output) (\(image.width)x\(image.height)) from \(input) with \(checkpoint)")
    }
}

/// True when `a` and `b` name the same file: the same resolved path, or (when both exist) the
/// same device and inode (hard links, bind mounts).
func samePath(_ a: String, _ b: String) -> Bool {
    let ra = URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
    let rb = URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    if ra == rb { return true }
    var sa = stat(), sb = stat()
    guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
}
