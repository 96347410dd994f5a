/// Transposed 2-D convolution (PyTorch's conv_transpose2d): the adjoint of conv2d with the same
/// weight, stride and padding. StyleGAN2's up-sampling conv is one with stride 2.
///
///   x: [N, C, H, W], weight: [C, O/groups, kh, kw], bias: [O]
///   out: [N, O, (H-1)·s - 2p + kh + outputPadding, (W-1)·s - 2p + kw + outputPadding]
///
/// Seen from conv2d: the output here is a conv "input" of O channels, x is that conv's output,
/// and the weight [C, O/groups, kh, kw] is an ordinary conv weight with C outputs. So
///   forward  = conv2d's input gradient of x,
///   dX       = conv2d(dY, weight),
///   dWeight  = conv2d's weight gradient with (input dY, output gradient x).
public func convTranspose2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 2, padding: Int = 0,
                            outputPadding: Int = 0, groups: Int = 1) throws -> Tensor {
    let op = "convTranspose2d"
    let (n, c, h, w) = try nchw(x, op)
    guard weight.rank == 4 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, weight.shape], detail: "weight must be [C, O/groups, kh, kw]")
    }
    let (wc, og, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    guard groups >= 1, c % groups == 0 else {
        throw TensorError.badArgument(op: op, detail: "groups \(groups) must divide input channels \(c) (input \(x.shape), weight \(weight.shape))")
    }
    try check(wc == c, op, [x.shape, weight.shape], "weight has \(wc) input channels, expected \(c)")
    guard stride >= 1, padding >= 0, kh >= 1, kw >= 1 else {
        throw TensorError.badArgument(op: op, detail: "needs stride >= 1, padding >= 0 and a kernel of at least 1x1; got stride \(stride), padding \(padding), weight \(weight.shape)")
    }
    guard outputPadding >= 0, outputPadding < stride else {
        throw TensorError.badArgument(op: op, detail: "outputPadding \(outputPadding) must be in 0..<stride (\(stride))")
    }
    let o = og * groups
    let oh = (h - 1) * stride - 2 * padding + kh + outputPadding
    let ow = (w - 1) * stride - 2 * padding + kw + outputPadding
    guard oh >= 1, ow >= 1 else {
        throw TensorError.shapeMismatch(op: op, shapes: [x.shape, weight.shape],
            detail: "padding \(padding) leaves an empty output (\(oh)x\(ow))")
    }
    if let b = bias { try check(b.shape == [o], op, [weight.shape, b.shape], "bias must be [\(o)]") }

    // The equivalent conv: input [N, O, oh, ow] -> output [N, C, H, W]; the floor division in
    // conv's output size recovers exactly H and W because outputPadding < stride.
    let win = Window(channels: og, height: oh, width: ow, kh: kh, kw: kw, stride: stride, padding: padding, outH: h, outW: w)
    let shape = ConvShape(batch: n, groups: groups, outChannels: c, win: win)

    let y = Tensor(zeros: [n, o, oh, ow])
    convBackward(shape, x: nil, weight: weight.ptr, gradOut: x.ptr, gradX: y.ptr, gradW: nil)
    if let b = bias { addChannelBias(y.ptr, b.ptr, batch: n, channels: o, plane: oh * ow) }

    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Autograd.record(op, output: y, inputs: inputs, vjp: { g, needs in
        // Differentiable backward (ConvGrad.swift): the forward is convInputGrad(x, weight).
        [needs[0] ? convApply(g, weight, shape) : nil,
         needs[1] ? convWeightGrad(g, x, shape) : nil] + (bias == nil ? [] : [try sum(g, axes: [0, 2, 3])])
    }) { g in
        if let b = bias, b.requiresGrad {
            sumChannelGrad(g.ptr, b.gradOrCreate().ptr, batch: n, channels: o, plane: oh * ow)
        }
        if x.requiresGrad { convForward(shape, g.ptr, weight.ptr, x.gradOrCreate().ptr) }
        if weight.requiresGrad {
            convBackward(shape, x: g.ptr, weight: weight.ptr, gradOut: x.ptr, gradX: nil, gradW: weight.gradOrCreate().ptr)
        }
    }
}
