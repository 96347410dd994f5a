import IFERLayers

/// Squeeze-and-excitation: x · sigmoid(fc2(relu(fc1(avgpool(x))))) with 1×1 convs, no bias.
public final class SEModule: Layer {
    public let fc1: Conv2d, fc2: Conv2d
    public init(_ channels: Int, reduction: Int = 16) {
        fc1 = Conv2d(channels, max(1, channels / reduction), kernel: 1, bias: false)
        fc2 = Conv2d(max(1, channels / reduction), channels, kernel: 1, bias: false)
    }
    public var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }

    /// x [N, C, H, W] -> same
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let s = try mean(x, axes: [2, 3], keepDims: true)                  // [N, C, 1, 1]
        return try mul(x, sigmoid(fc2(relu(fc1(s)))))
    }
}

/// TreB1eN `bottleneck_IR_SE`: res = BN → conv3×3 → PReLU → conv3×3 (stride) → BN → SE;
/// shortcut = maxpool(1, stride) when the width is kept, else conv1×1 (stride) → BN.
public final class BottleneckIRSE: Layer {
    public let shortcut: Layer
    public let resLayer: Sequential

    public init(_ inChannels: Int, _ depth: Int, stride: Int) {
        if inChannels == depth {
            shortcut = MaxPool2d(kernel: 1, stride: stride)
        } else {
            shortcut = Sequential([Conv2d(inChannels, depth, kernel: 1, stride: stride, bias: false), BatchNorm(depth)])
        }
        resLayer = Sequential([
            BatchNorm(inChannels), Conv2d(inChannels, depth, kernel: 3, padding: 1, bias: false), PReLU(depth),
            Conv2d(depth, depth, kernel: 3, stride: stride, padding: 1, bias: false), BatchNorm(depth), SEModule(depth),
        ])
    }
    public var children: [(String, Module)] { [("shortcut_layer", shortcut), ("res_layer", resLayer)] }

    /// x [N, in, H, W] -> [N, depth, H/stride, W/stride]
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try add(resLayer(x), shortcut(x)) }
}

/// The ArcFace backbone used by pSp's ID loss (TreB1eN `Backbone(112, 50, 'ir_se')`, file
/// `model_ir_se50.pth`), eval mode: L2-normalised 512-d embeddings of 112×112 faces.
/// Keys: input_layer.{0,1,2}, body.{0..23}.{shortcut_layer,res_layer}.*, output_layer.{0,3,4}.
/// `units` and `widths` default to IR-50 (3, 4, 14, 3 units of 64, 128, 256, 512); tests use
/// narrower ones. `inputSize` must be a multiple of 16.
public final class IRSE50: Module {
    public let inputSize: Int
    public let inputLayer: Sequential, body: Sequential, outputLayer: Sequential

    public init(inputSize: Int = 112, units: [Int] = [3, 4, 14, 3], widths: [Int] = [64, 128, 256, 512], embedding: Int = 512) {
        self.inputSize = inputSize
        inputLayer = Sequential([Conv2d(3, widths[0], kernel: 3, padding: 1, bias: false), BatchNorm(widths[0]), PReLU(widths[0])])
        var blocks: [Layer] = []
        var inCh = widths[0]
        for (n, w) in zip(units, widths) {
            for u in 0..<n {
                blocks.append(BottleneckIRSE(u == 0 ? inCh : w, w, stride: u == 0 ? 2 : 1))
            }
            inCh = w
        }
        body = Sequential(blocks)
        let side = inputSize / 16
        let last = widths[widths.count - 1]
        outputLayer = Sequential([BatchNorm(last), Identity(), Identity(), Linear(last * side * side, embedding), BatchNorm(embedding)])
    }

    public var children: [(String, Module)] { [("input_layer", inputLayer), ("body", body), ("output_layer", outputLayer)] }

    /// x [N, 3, S, S] (S = inputSize, values in [-1, 1]) -> unit embeddings [N, embedding]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.dim(1) == 3, x.dim(2) == inputSize, x.dim(3) == inputSize else {
            throw TensorError.shapeMismatch(op: "IRSE50", shapes: [x.shape], detail: "expected faces [N, 3, \(inputSize), \(inputSize)]")
        }
        let h = try body(inputLayer(x))                                      // [N, 512, S/16, S/16]
        let bn = try outputLayer.layers[0](h)                                 // dropout (eval) = identity
        let flat = try reshape(bn, [x.dim(0), -1])                           // [N, 512·(S/16)²]
        let e = try outputLayer.layers[4](outputLayer.layers[3](flat))        // [N, embedding]
        let norm = sqrt(try sum(square(e), axes: [1], keepDims: true))      // [N, 1]
        return try div(e, norm)
    }
}
