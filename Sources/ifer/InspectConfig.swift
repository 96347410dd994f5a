import Foundation
import IFERTrain

/// `ifer inspect --config FILE [--json]`: builds every network the `model:` section describes
/// (without drawing weights) and reports parameter counts, forward MACs per image, and with
/// --json every tensor's state_dict name, shape and kind.
func inspectConfig(file: String, json: Bool) throws -> String {
    let model = try ModelConfig(file: file)
    let nets = try ModelInventory.networks(model)
    if json {
        var params: [String: Int] = [:], macs: [String: Int] = [:]
        var tensors: [[String: Any]] = []
        for n in nets {
            // model_k's tensors are buffers (a momentum copy), so it has no parameters of its own.
            if n.parameters > 0 || n.name != "discriminator_k" { params[n.name] = n.parameters }
            macs[n.name] = n.macs
            for t in n.tensors { tensors.append(["name": t.name, "shape": t.shape, "kind": t.kind]) }
        }
        let doc: [String: Any] = ["config": file, "params": params, "macs": macs, "tensors": tensors]
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
    var lines = ["config: \(file)", "network           parameters      fwd MACs/image   tensors"]
    for n in nets {
        let name = n.name.padding(toLength: 16, withPad: " ", startingAt: 0)
        lines.append("\(name)  \(pad(group(n.parameters), 12))  \(pad(human(n.macs), 16))   \(n.tensors.count)")
    }
    let total = nets.filter { $0.name != "discriminator_k" }.reduce(0) { $0 + $1.parameters }
    lines.append("total trainable   \(pad(group(total), 12))")
    return lines.joined(separator: "\n")
}

private func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }

private func group(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}

private func human(_ n: Int) -> String {
    let v = Double(n)
    if v >= 1e9 { return String(format: "%.3f G", v / 1e9) }
    if v >= 1e6 { return String(format: "%.3f M", v / 1e6) }
    if v >= 1e3 { return String(format: "%.3f k", v / 1e3) }
    return "\(n)"
}
