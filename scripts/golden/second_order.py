"""Golden cases for second-order gradients (Autograd.grad with createGraph).

For each case f(x_1, .., x_k) with a random seed s, PyTorch computes (float64 math on float32
inputs)
    g_i = d sum(f * s) / d x_i                      (torch.autograd.grad, create_graph=True)
    h_j = d sum_i sum(g_i * v_i) / d x_j            (a Hessian-vector product, v_i random)
and writes one JSON fixture per case to Tests/IFERTensorTests/Fixtures/second_order/:
    {"name", "inputs": [{"shape", "data", "grad"}], "seed", "output",
     "grads": [..], "vectors": [..], "hvps": [..]}      (one entry per input, null if grad=False)
Linear ops are multiplied by another input (mul(op(x), y)), so the HVP differentiates the op's
backward with respect to its incoming gradient. The Swift test (SecondOrderTests.swift) replays
each case on one line and also checks the HVP against finite differences of the first gradient.
Run: cd scripts/golden && ../../.venv-golden/bin/python second_order.py
"""
import importlib.util
import json
import os

import torch
import torch.nn.functional as F

from common import ROOT, randn, tensor_json

OUT = os.path.join(ROOT, "Tests", "IFERTensorTests", "Fixtures", "second_order")


def case(name, fn, inputs, grad=None, seed=0):
    os.makedirs(OUT, exist_ok=True)
    grad = grad if grad is not None else [True] * len(inputs)
    xs = [x.to(torch.float32).to(torch.float64).clone().requires_grad_(g) for x, g in zip(inputs, grad)]
    out = fn(*xs)
    gen = torch.Generator().manual_seed(2000 + seed)
    s = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(torch.float32).to(torch.float64)
    req = [x for x in xs if x.requires_grad]
    gs = torch.autograd.grad((out * s).sum(), req, create_graph=True, allow_unused=True)
    gs = [g if g is not None else torch.zeros_like(x) for g, x in zip(gs, req)]
    vs = [torch.randn(x.shape, generator=gen, dtype=torch.float64).to(torch.float32).to(torch.float64) for x in req]
    second = sum((g * v).sum() for g, v in zip(gs, vs))
    if second.requires_grad:
        hs = torch.autograd.grad(second, req, allow_unused=True)
        hs = [h if h is not None else torch.zeros_like(x) for h, x in zip(hs, req)]
    else:
        hs = [torch.zeros_like(x) for x in req]

    def per_input(values):
        it = iter(values)
        return [tensor_json(next(it)) if g else None for g in grad]

    doc = {
        "name": name,
        "inputs": [dict(tensor_json(x), grad=bool(g)) for x, g in zip(xs, grad)],
        "seed": tensor_json(s),
        "output": tensor_json(out),
        "grads": per_input(gs),
        "vectors": per_input(vs),
        "hvps": per_input(hs),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


# rosinality's upfirdn2d, the same function the model references use (scripts/reference/common.py).
_spec = importlib.util.spec_from_file_location(
    "reference_common", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference", "common.py"))
_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reference)
upfirdn2d = _reference.upfirdn2d


def blur_kernel(taps, gain=1.0):
    k = torch.tensor(taps, dtype=torch.float64)
    k = k[None, :] * k[:, None]
    return k / k.sum() * gain


def lrelu(x):
    return F.leaky_relu(x, 0.2) * 2 ** 0.5


def mbstd(h, g):
    """The StyleGAN2 discriminator's minibatch standard deviation channel (rosinality)."""
    b, c, hh, ww = h.shape
    grouped = h.reshape(g, b // g, c, hh, ww)
    sd = torch.sqrt(grouped.var(0, unbiased=False) + 1e-8)
    stat = sd.mean([1, 2, 3]).reshape(1, b // g, 1, 1, 1).repeat(g, 1, 1, hh, ww).reshape(b, 1, hh, ww)
    return torch.cat([h, stat], 1)


def modulated(x, w, s, up=False):
    """rosinality's ModulatedConv2d on per-sample grouped weights (demodulated)."""
    b, cin, h, ww = x.shape
    cout, k = w.shape[0], w.shape[-1]
    scale = 1 / (cin * k * k) ** 0.5
    weight = scale * w[None] * s[:, None, :, None, None]                   # [B, out, in, k, k]
    weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)[:, :, None, None, None]
    if up:
        weight = weight.transpose(1, 2).reshape(b * cin, cout, k, k)
        y = F.conv_transpose2d(x.reshape(1, b * cin, h, ww), weight, stride=2, groups=b)
    else:
        y = F.conv2d(x.reshape(1, b * cin, h, ww), weight.reshape(b * cout, cin, k, k), padding=k // 2, groups=b)
    return y.reshape(b, cout, y.shape[-2], y.shape[-1])


if __name__ == "__main__":
    r = randn
    pos = lambda *sh, seed: r(*sh, seed=seed).abs() + 0.5  # noqa: E731

    # Elementwise (broadcasting) and unary maps.
    case("add_broadcast", lambda a, b: (a + b) ** 2, [r(2, 3, 4, seed=1), r(3, 1, seed=2)])
    case("sub_broadcast", lambda a, b: (a - b) ** 2, [r(2, 3, 4, seed=3), r(4, seed=4)])
    case("mul_broadcast", lambda a, b: a * b * a, [r(2, 3, 4, seed=5), r(1, 3, 1, seed=6)])
    case("div_broadcast", lambda a, b: a / b, [r(2, 3, 4, seed=7), pos(3, 4, seed=8)])
    case("scale_addscalar_neg", lambda a, b: -((a * 1.5 + 0.25) * b), [r(3, 4, seed=9), r(3, 4, seed=10)])
    case("exp", lambda a: torch.exp(a), [r(3, 5, seed=11, scale=0.5)])
    case("log", lambda a: torch.log(a), [pos(3, 5, seed=12)])
    case("sqrt", lambda a: torch.sqrt(a), [pos(3, 5, seed=13)])
    case("rsqrt", lambda a: torch.rsqrt(a), [pos(3, 5, seed=14)])
    case("square", lambda a, b: a.pow(2) * b, [r(3, 5, seed=15), r(3, 5, seed=16)])
    case("pow", lambda a: a.pow(3.0), [pos(3, 5, seed=17)])
    case("abs", lambda a, b: a.abs() * b, [r(3, 5, seed=18), r(3, 5, seed=19)])
    case("relu", lambda a, b: torch.relu(a) * b, [r(3, 5, seed=20), r(3, 5, seed=21)])
    case("sigmoid", lambda a: torch.sigmoid(a), [r(3, 5, seed=22)])
    case("tanh", lambda a: torch.tanh(a), [r(3, 5, seed=23)])
    # Bias + leaky ReLU with gain (FusedLeakyReLU), squared so its backward is differentiated.
    case("bias_leaky_relu", lambda x, b: lrelu(x + b[None, :, None, None]) ** 2,
         [r(2, 3, 4, 4, seed=24), r(3, seed=25)])

    # Reductions.
    case("sum_axes", lambda a: a.sum([0, 2], keepdim=True) ** 2, [r(2, 3, 4, seed=26)])
    case("mean_axes", lambda a: a.mean([1]) ** 2, [r(2, 3, 4, seed=27)])
    case("sum_all", lambda a: a.sum() ** 2 * a, [r(3, 4, seed=28)])
    case("mean_all", lambda a: a.mean() ** 2 * a, [r(3, 4, seed=29)])

    # Shape ops: each linear, multiplied by another input.
    case("reshape", lambda a, b: a.reshape(4, 6) * b, [r(2, 3, 4, seed=30), r(4, 6, seed=31)])
    case("permute", lambda a, b: a.permute(2, 0, 1) * b, [r(2, 3, 4, seed=32), r(4, 2, 3, seed=33)])
    case("concat", lambda a, b, c: torch.cat([a, b], 1) * c, [r(2, 3, 4, seed=34), r(2, 2, 4, seed=35), r(2, 5, 4, seed=36)])
    case("slice", lambda a, b: a[:, 1:3] * b, [r(2, 4, 3, seed=37), r(2, 2, 3, seed=38)])

    # Linear / equalised layers.
    case("matmul", lambda a, b: a @ b, [r(3, 4, seed=39), r(4, 5, seed=40)])
    case("matmul_batched_shared", lambda a, b: (a @ b.t()) ** 2, [r(2, 3, 4, seed=41), r(5, 4, seed=42)])
    case("matmul_transposed", lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2),
         [r(2, 4, 3, seed=43), r(2, 5, 4, seed=44)])
    case("equal_linear_lrelu", lambda x, w, b: lrelu(x @ (w * 0.5).t() + b * 0.01) ** 2,
         [r(3, 4, seed=45), r(5, 4, seed=46), r(5, seed=47)])
    case("pixel_norm", lambda x: x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + 1e-8), [r(3, 6, seed=48)])

    # Convolutions: bilinear in (x, w), so the HVP mixes both.
    case("conv2d_dense", lambda x, w: F.conv2d(x, w), [r(2, 3, 5, 5, seed=49), r(4, 3, 3, 3, seed=50)])
    case("conv2d_padded_bias", lambda x, w, b: F.conv2d(x, w, b, padding=1) ** 2,
         [r(2, 3, 5, 5, seed=51), r(4, 3, 3, 3, seed=52), r(4, seed=53)])
    case("conv2d_strided", lambda x, w, b: F.conv2d(x, w, b, stride=2) ** 2,
         [r(2, 3, 7, 7, seed=54), r(4, 3, 3, 3, seed=55), r(4, seed=56)])
    case("conv2d_grouped", lambda x, w: F.conv2d(x, w, padding=1, groups=2) ** 2,
         [r(2, 4, 5, 5, seed=57), r(6, 2, 3, 3, seed=58)])
    case("conv2d_depthwise", lambda x, w: F.conv2d(x, w, padding=1, groups=3) ** 2,
         [r(2, 3, 5, 5, seed=59), r(3, 1, 3, 3, seed=60)])
    case("conv2d_1x1_strided", lambda x, w: F.conv2d(x, w, stride=2) ** 2,
         [r(2, 3, 6, 6, seed=61), r(4, 3, 1, 1, seed=62)])
    case("conv2d_winograd", lambda x, w: F.conv2d(x, w, padding=1) ** 2,
         [r(1, 3, 6, 6, seed=63), r(4, 3, 3, 3, seed=64)])
    case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2) ** 2,
         [r(2, 3, 4, 4, seed=65), r(3, 2, 3, 3, seed=66), r(2, seed=67)])

    # FIR filtering (blur before a strided conv; x2 up-sampling with gain 4).
    k4 = blur_kernel([1, 3, 3, 1])
    case("upfirdn2d_blur", lambda x, y: upfirdn2d(x, k4, pad=(2, 1)) * y,
         [r(2, 2, 5, 5, seed=68), r(2, 2, 5, 5, seed=69)])
    case("upfirdn2d_up2", lambda x, y: upfirdn2d(x, k4 * 4, up=2, pad=(2, 1)) * y,
         [r(1, 2, 3, 3, seed=70), r(1, 2, 6, 6, seed=71)])
    case("upfirdn2d_down2", lambda x, y: upfirdn2d(x, k4, down=2, pad=(1, 1)) * y,
         [r(1, 2, 6, 6, seed=72), r(1, 2, 3, 3, seed=73)])

    # Minibatch standard deviation (mean, variance, sqrt, concat) on a batch of 4, one group of 4
    # (groups of 2 would make sd = |a - b| / 2, piecewise linear, with a zero Hessian).
    case("minibatch_stddev", lambda h: mbstd(h, 4), [r(4, 3, 2, 2, seed=74)])

    # StyleGAN2's modulated conv (per-sample grouped reference vs the Swift shared-conv form).
    case("modulated_conv", lambda x, w, s: modulated(x, w, s),
         [r(2, 3, 4, 4, seed=75), r(4, 3, 3, 3, seed=76), r(2, 3, seed=77) + 1])
    case("modulated_conv_up", lambda x, w, s: modulated(x, w, s, up=True),
         [r(2, 3, 3, 3, seed=78), r(4, 3, 3, 3, seed=79), r(2, 3, seed=80) + 1])
