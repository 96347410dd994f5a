import ArgumentParser
import Foundation
import IFERTrain

/// `ifer inspect --config FILE [--json]`: the networks a config describes (InspectConfig.swift).
/// `ifer inspect --checkpoint FILE|RUN_DIR [--json]`: what a checkpoint holds (stage, step, epoch,
/// world size, parameter counts per top-level module, optimiser groups, class names, config). The file's SHA-256 is
/// verified against its sidecar before it is opened, as on resume.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show a config's networks or a checkpoint's contents.")

    @Option(help: "A checkpoint file (ckpt-<step>.h5), or a run folder (its newest valid checkpoint), to describe.") var checkpoint: String?
    @Option(help: "A run config (YAML): list its networks, parameter counts and forward MACs per image.") var config: String?
    @Argument(help: "Same as --checkpoint.") var file: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        if let config {
            print(try inspectConfig(file: config, json: json))
            return
        }
        guard let path = checkpoint ?? file else {
            throw ValidationError("give a checkpoint (ifer inspect --checkpoint RUN/checkpoints/ckpt-00001000.h5) or a config (ifer inspect --config FILE)")
        }
        try inspectCheckpoint(path: try resolveCheckpoint(path, comm: SingleProcess()), json: json)
    }
}

/// Describes one checkpoint (reads shapes only, not the tensors).
func inspectCheckpoint(path: String, json: Bool) throws {
    let r = try CheckpointReader(path: path)
    defer { r.close() }
    let h = r.header
    let params = try r.parameterShapes()
    let buffers = try r.bufferShapes()
    let count: ([Int]) -> Int = { $0.reduce(1, *) }
    // Parameter counts per top-level module ("encoder", "decoder", ...).
    var byModule: [String: (params: Int, tensors: Int)] = [:]
    for (k, s) in params {
        let top = String(k.split(separator: ".", maxSplits: 1).first ?? Substring(k))
        byModule[top, default: (0, 0)].params += count(s)
        byModule[top, default: (0, 0)].tensors += 1
    }
    let totalParams = params.reduce(0) { $0 + count($1.shape) }
    let totalBuffers = buffers.reduce(0) { $0 + count($1.shape) }
    let optimizers = try r.optimizerNames()
    let ranks = try r.rankCount()
    if json {
        let obj: [String: Any] = [
            "path": path, "format_version": h.formatVersion, "stage": h.stage, "step": h.step, "epoch": h.epoch,
            "world_size": h.worldSize, "architecture": h.architecture, "created_at": h.createdAt,
            "parameters": totalParams, "parameter_tensors": params.count,
            "parameters_by_module": Dictionary(uniqueKeysWithValues: byModule.map { ($0.key, $0.value.params) }),
            "buffers": totalBuffers, "buffer_tensors": buffers.count, "optimizers": optimizers, "ranks": ranks,
            "config": h.config, "class_names": h.classNames,
        ]
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
        return
    }
    func fmt(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.2f M", Double(n) / 1e6) : (n >= 1000 ? String(format: "%.1f K", Double(n) / 1e3) : "\(n)")
    }
    print("checkpoint    \(path) (SHA-256 verified)")
    print("format        \(CheckpointFormat.name) v\(h.formatVersion), created \(h.createdAt)")
    print("stage         \(h.stage)\(h.architecture.isEmpty ? "" : " (\(h.architecture))")")
    print("step          \(h.step)   epoch \(h.epoch)   world size \(h.worldSize)")
    print("parameters    \(fmt(totalParams)) (\(totalParams)) in \(params.count) tensors")
    let width = max(12, (byModule.keys.map(\.count).max() ?? 0) + 2)
    for (m, v) in byModule.sorted(by: { $0.key < $1.key }) {
        print("  \(m.padding(toLength: width, withPad: " ", startingAt: 0))\(fmt(v.params)) in \(v.tensors) tensors")
    }
    print("buffers       \(fmt(totalBuffers)) in \(buffers.count) tensors")
    print("optimizers    \(optimizers.isEmpty ? "none" : optimizers.joined(separator: ", "))")
    print("ranks         \(ranks) (RNG state and loader cursor each)")
    if !h.classNames.isEmpty { print("classes       \(h.classNames.joined(separator: ", "))") }
    print("config:")
    for line in h.config.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false) { print("  \(line)") }
}
