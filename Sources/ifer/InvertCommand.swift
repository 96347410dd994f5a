import ArgumentParser
import Foundation
import IFERTrain

/// `ifer invert --checkpoint ASIT_CKPT IN OUT.png [--config YAML] [--pair]`: encodes a face
/// image with the ASIT encoder and renders it back with the generator (the facial inversion of
/// the paper). The input is prepared as sharding does (centre square, anti-aliased resample).
struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert", abstract: "Invert a face image with an asit-stage checkpoint and write the reconstruction as PNG.")

    @Option(help: "An asit-stage checkpoint (trained, or converted from the authors' weights), or its run folder.")
    var checkpoint: String

    @Option(help: "Model config, when the checkpoint holds none (converted without --config).")
    var config: String?

    @Flag(help: "Write the prepared input and the reconstruction side by side.")
    var pair = false

    @Argument(help: "Input image (PNG or JPEG).")
    var input: String

    @Argument(help: "Output PNG.")
    var output: String

    func run() throws {
        let inverter = try TrainedInverter.load(try resolveCheckpoint(checkpoint, comm: SingleProcess()), configFile: config)
        let x = try faceImageTensor(input, side: inverter.inputSize)
        let y = try inverter.invert(x)
        let image = pair ? RGBImage.grid([[rgbImage(x), rgbImage(y)]]) : rgbImage(y)
        try writePNG(image, path: output)
        print("wrote \(output) (\(image.width)x\(image.height)) from \(input) with \(checkpoint)")
    }
}
