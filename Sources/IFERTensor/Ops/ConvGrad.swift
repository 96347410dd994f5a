/// The three linear maps of one convolution, as differentiable ops for second-order gradients.
///
/// For sizes `s` (a `ConvShape`: batch, groups, channels, kernel, stride, padding) a convolution
/// y = conv(x, w) is bilinear, and its two gradients are bilinear too:
///   convApply(x, w)        y  = conv(x, w)       x [N, C, H, W], w [O, C/g, kh, kw] -> [N, O, oh, ow]
///   convInputGrad(gy, w)   gx = conv^T(gy, w)    gy [N, O, oh, ow], w             -> [N, C, H, W]
///   convWeightGrad(x, gy)  gw = gy ⋆ x           x, gy                            -> [O, C/g, kh, kw]
/// Each one's vector-Jacobian product is again one of the three (from <u, conv(x, w)> =
/// <conv^T(u, w), x> = <u ⋆ x, w>), so gradients of any order stay inside this family. All three
/// run the existing kernels (`convForward`, `convBackward`), so the dense, strided, grouped,
/// depthwise and Winograd paths are all covered; conv2d and convTranspose2d use them for their
/// differentiable backward.

/// y = conv(x, w) without bias. [N, C, H, W], [O, C/g, kh, kw] -> [N, O, oh, ow]
func convApply(_ x: Tensor, _ w: Tensor, _ s: ConvShape) -> Tensor {
    let y = Tensor(zeros: [s.batch, s.outChannels, s.win.outH, s.win.outW])
    convForward(s, x.ptr, w.ptr, y.ptr)
    return Autograd.record("convApply", output: y, inputs: [x, w], vjp: { g, needs in
        [needs[0] ? convInputGrad(g, w, s) : nil, needs[1] ? convWeightGrad(x, g, s) : nil]
    }) { g in
        convBackward(s, x: x.ptr, weight: w.ptr, gradOut: g.ptr,
                     gradX: x.requiresGrad ? x.gradOrCreate().ptr : nil,
                     gradW: w.requiresGrad ? w.gradOrCreate().ptr : nil)
    }
}

/// gx = conv^T(gy, w), the input gradient of conv(x, w) for output gradient gy.
/// [N, O, oh, ow], [O, C/g, kh, kw] -> [N, C, H, W]
func convInputGrad(_ gy: Tensor, _ w: Tensor, _ s: ConvShape) -> Tensor {
    let gx = Tensor(zeros: [s.batch, s.groups * s.win.channels, s.win.height, s.win.width])
    convBackward(s, x: nil, weight: w.ptr, gradOut: gy.ptr, gradX: gx.ptr, gradW: nil)
    // <u, conv^T(gy, w)> = <conv(u, w), gy> = <gy ⋆ u, w>
    return Autograd.record("convInputGrad", output: gx, inputs: [gy, w], vjp: { u, needs in
        [needs[0] ? convApply(u, w, s) : nil, needs[1] ? convWeightGrad(u, gy, s) : nil]
    })
}

/// gw = gy ⋆ x, the weight gradient of conv(x, w) for output gradient gy.
/// [N, C, H, W], [N, O, oh, ow] -> [O, C/g, kh, kw]
func convWeightGrad(_ x: Tensor, _ gy: Tensor, _ s: ConvShape) -> Tensor {
    let gw = Tensor(zeros: [s.outChannels, s.win.channels, s.win.kh, s.win.kw])
    // The weight argument is not read when only gradW is asked for; gw has the right size.
    convBackward(s, x: x.ptr, weight: gw.ptr, gradOut: gy.ptr, gradX: nil, gradW: gw.ptr)
    // <u, gy ⋆ x> = <conv(x, u), gy> = <conv^T(gy, u), x>
    return Autograd.record("convWeightGrad", output: gw, inputs: [x, gy], vjp: { u, needs in
        [needs[0] ? convInputGrad(gy, u, s) : nil, needs[1] ? convApply(x, u, s) : nil]
    })
}
