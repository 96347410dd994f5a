@_exported import IFERTensor

/// A network building block, mlx-swift style: every parameter and buffer has an explicit key,
/// and a module's full names (`encoder.body.0.blocks.1.attn.qkv.weight`) are the PyTorch
/// state_dict keys, so they are also the checkpoint keys and the converters' keys.
///
/// Modules are `final class`es that list what they own:
///   - `parameters`: trainable tensors (kind .parameter, requiresGrad) by local key;
///   - `buffers`: saved but never trained nor reduced (latent_avg, EMA copies, noise);
///   - `children`: sub-modules by local key (list indices are keys too: "0", "1", ...).
/// Initialisation lives apart from construction in `resetParameters`, so loading converted
/// weights never pays for a random init and a reset can be re-run with another seed.
public protocol Module: AnyObject {
    var parameters: [(String, Tensor)] { get }
    var buffers: [(String, Tensor)] { get }
    var children: [(String, Module)] { get }
    /// Draws this module's own parameters (not its children's) from `rng`.
    func resetParameters(_ rng: inout Philox)
}

extension Module {
    public var parameters: [(String, Tensor)] { [] }
    public var buffers: [(String, Tensor)] { [] }
    public var children: [(String, Module)] { [] }
    public func resetParameters(_ rng: inout Philox) {}

    /// Every parameter below this module with its dotted key, in registration order
    /// (own parameters first, then children in order) — the PyTorch state_dict order.
    public func namedParameters(prefix: String = "") -> [NamedTensor] {
        var out = parameters.map { (key: prefix + $0.0, tensor: $0.1) }
        for (k, c) in children { out += c.namedParameters(prefix: prefix + k + ".") }
        return out
    }

    public func namedBuffers(prefix: String = "") -> [NamedTensor] {
        var out = buffers.map { (key: prefix + $0.0, tensor: $0.1) }
        for (k, c) in children { out += c.namedBuffers(prefix: prefix + k + ".") }
        return out
    }

    /// Resets this module and every child, depth first, each from its own key derived from the
    /// module path, so adding a layer does not shift every later layer's initial values.
    public func resetAll(seed: UInt64, prefix: String = "") {
        var rng = Philox(seed: seed, Module_pathHash(prefix))
        resetParameters(&rng)
        for (k, c) in children { c.resetAll(seed: seed, prefix: prefix + k + ".") }
    }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }
}

/// FNV-1a of a module path, used to derive per-module initialisation keys.
public func Module_pathHash(_ s: String) -> UInt64 { FNV1a.hash(s) }

/// Marks a freshly created tensor as a trainable parameter.
public func parameter(_ shape: [Int]) -> Tensor {
    let t = Tensor(zeros: shape, requiresGrad: true, kind: .parameter)
    return t
}

/// Marks a freshly created tensor as a buffer (saved, never trained or reduced).
public func buffer(_ shape: [Int]) -> Tensor {
    Tensor(zeros: shape, requiresGrad: false, kind: .buffer)
}

/// A list of modules keyed "0", "1", ... like torch.nn.ModuleList / Sequential.
public final class ModuleList: Module {
    public var items: [Module]
    public init(_ items: [Module]) { self.items = items }
    public var children: [(String, Module)] { items.enumerated().map { (String($0.offset), $0.element) } }
}

extension Module {
    /// forward(x) with activation checkpointing (`Autograd.checkpoint`) for a block with one
    /// input, this module's parameters and no randomness: only x stays on the tape, and forward
    /// runs again during backward. `op` names the block in errors.
    public func recomputed(_ op: String, _ x: Tensor, _ forward: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
        var noRandomness: [Philox] = []
        let ys = try Autograd.checkpoint(op, inputs: [x], parameters: namedParameters().map(\.tensor), rngs: &noRandomness) { t, _ in
            [try forward(t[0])]
        }
        return ys[0]
    }
}
