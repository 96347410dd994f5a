import IFERLayers

/// One tensor of a network as it appears in a checkpoint / PyTorch state_dict.
public struct TensorEntry: Equatable {
    public let name: String
    public let shape: [Int]
    /// "parameter" or "buffer".
    public let kind: String
}

/// One network built from a config: its state_dict prefix, tensors, parameter count and MACs.
public struct NetworkSummary {
    /// "generator", "discriminator_q", "ifer_head", "encoder", ...
    public let name: String
    /// The key prefix in the ASIT / IFER state_dicts ("decoder.", "model_q.", "").
    public let prefix: String
    public let parameters: Int
    /// Forward multiply-accumulates for one image (or one sample).
    public let macs: Int
    public let tensors: [TensorEntry]

    public init(name: String, prefix: String, module: Module, macs: Int) {
        self.name = name
        self.prefix = prefix
        self.parameters = module.parameterCount
        self.macs = macs
        self.tensors = module.namedParameters(prefix: prefix).map { TensorEntry(name: $0.0, shape: $0.1.shape, kind: "parameter") }
            + module.namedBuffers(prefix: prefix).map { TensorEntry(name: $0.0, shape: $0.1.shape, kind: "buffer") }
    }
}

/// The networks of a model config, built without drawing any weights (for `ifer inspect` and
/// the state_dict conformance tests).
public enum ModelInventory {
    /// The networks whose sections the config names (`all` = every network this folder defines).
    public static func networks(_ config: ModelConfig, all: Bool = false) throws -> [NetworkSummary] {
        var out: [NetworkSummary] = []
        func wants(_ k: String) -> Bool { all || config.present.contains(k) }
        if wants("encoder") {
            let e = try ASITEncoder(config.encoder)
            out.append(NetworkSummary(name: "encoder", prefix: "encoder.", module: e, macs: e.macs))
        }
        if wants("generator") {
            let g = Generator(config.generator)
            out.append(NetworkSummary(name: "generator", prefix: "decoder.", module: g, macs: g.macs))
        }
        if wants("discriminator") && config.discriminator.kind == "stylegan2" {
            let d = StyleGANDiscriminator(config.discriminator, stddevGroup: config.discriminator.stddevGroup)
            out.append(NetworkSummary(name: "discriminator", prefix: "d.", module: d, macs: d.macs))
        } else if wants("discriminator") {
            let d = InversionDiscriminator(config.discriminator)
            out.append(NetworkSummary(name: "discriminator_q", prefix: "model_q.", module: d.modelQ, macs: d.modelQ.macs))
            out.append(NetworkSummary(name: "discriminator_k", prefix: "model_k.", module: d.modelK, macs: d.modelQ.macs))
        }
        if wants("ifer_head") {
            let h = IferHead(config.iferHead)
            out.append(NetworkSummary(name: "ifer_head", prefix: "", module: h, macs: h.macs()))
        }
        return out
    }
}
