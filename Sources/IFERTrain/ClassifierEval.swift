import Foundation
import IFERIO

/// Top-1, per-class accuracy and the confusion matrix of `model` on the loader's split, summed
/// over every rank (each rank evaluates its share; padding rows are masked out).
public func evaluateClassifier(_ model: ImageClassifier, loader: Loader, comm: Communicator) throws -> ConfusionMatrix {
    var cm = ConfusionMatrix(classes: model.classes)
    var none: [Philox] = []
    try loader.forEachBatchOfEpoch { b in
        let logits = try Autograd.noGrad { try model.logits(b.images, training: false, rngs: &none) }
        cm.add(logits: logits, labels: b.labels, mask: b.mask)
    }
    var counts = cm.counts.map(Double.init)
    try counts.withUnsafeMutableBufferPointer { try comm.allReduce($0.baseAddress!, count: $0.count) }
    cm.replace(counts.map { Int($0) })
    return cm
}

extension ConfusionMatrix {
    /// Rows = true class, columns = predicted class, with a header row and column of names.
    public func csv(names: [String]) -> String {
        var text = "true\\pred," + names.joined(separator: ",") + "\n"
        for (i, row) in rows.enumerated() { text += names[i] + "," + row.map(String.init).joined(separator: ",") + "\n" }
        return text
    }

    public func writeCSV(names: [String], to path: String) throws {
        try csv(names: names).write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// An `ifer`-stage classifier restored from a checkpoint: the network its config describes,
/// with the checkpoint's parameters and buffers, and the class names it was trained on.
public struct TrainedClassifier {
    public let model: ImageClassifier
    public let config: RunConfig
    public let header: CheckpointHeader
    public let path: String
    /// Output class names: the checkpoint's, else the training shards' manifest's, else
    /// "class 0", "class 1", ….
    public let classNames: [String]

    /// Verifies and reads `path`; a checkpoint of another stage, or one whose tensors do not fit
    /// the network its own config describes, is refused naming the file.
    public static func load(_ path: String) throws -> TrainedClassifier {
        let r = try CheckpointReader(path: path)
        defer { r.close() }
        try r.checkCompatible(stage: ClassifierStage.name)
        let config = try RunConfig.parse(r.header.config, source: path + " (config attribute)")
        let model = try makeClassifier(config, initialise: false)  // every tensor is read below
        try r.loadInto(params: model.namedParameters().map { (key: $0.0, tensor: $0.1) },
                       buffers: model.namedBuffers().map { (key: $0.0, tensor: $0.1) })
        var names = r.header.classNames
        if names.count != model.classes {
            // Checkpoints from before class_names was stored: the training shards' manifest.
            names = (try? Manifest.load((config.data.shards as NSString).appendingPathComponent("manifest.json")).classNames) ?? []
        }
        if names.count != model.classes { names = (0..<model.classes).map { "class \($0)" } }
        return TrainedClassifier(model: model, config: config, header: r.header, path: path, classNames: names)
    }

    /// Class probabilities (softmax of the logits) for images [N, 3, S, S] in [-1, 1].
    public func probabilities(_ images: Tensor) throws -> [[Float]] {
        var none: [Philox] = []
        let p = try Autograd.noGrad { try softmax(try model.logits(images, training: false, rngs: &none), axis: -1) }
        let c = model.classes
        return (0..<p.dim(0)).map { i in Array(UnsafeBufferPointer(start: p.ptr + i * c, count: c)) }
    }
}

/// A [1, 3, side, side] tensor in [-1, 1] from an image file: decoded, centre square, resampled
/// with anti-aliasing (up-scaling allowed here), normalised like the loader does.
public func faceImageTensor(_ file: String, side: Int) throws -> Tensor {
    let img = try decodeImage(path: file)
    guard case .success(let window) = FaceCrop.window(width: img.width, height: img.height, box: nil, resolution: side,
                                                      allowUpscale: true) else {
        throw IOError(path: file, "image is empty (\(img.width)x\(img.height))")
    }
    let pixels = img.pixels.withUnsafeBufferPointer { p in
        Resample.resampleUInt8(p.baseAddress!, width: img.width, height: img.height, box: window, outWidth: side, outHeight: side)
    }
    let x = Tensor(zeros: [1, 3, side, side])
    var rng = Philox(seed: 0)
    pixels.withUnsafeBufferPointer { Augmentation.none.apply($0.baseAddress!, side: side, into: x.ptr, rng: &rng) }
    return x
}
