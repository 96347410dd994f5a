"""Shared pieces of the PyTorch reference models: config reading, FIR filtering, fixture writing.

The reference modules reproduce rosinality/stylegan2-pytorch and IFER-master semantics with
plain PyTorch ops (the per-sample grouped modulated conv, upfirdn2d as zero-insert + pad +
depthwise conv), so the Swift port's fast paths are checked against the original formulation.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


def load_model_config(path):
    """The `model:` section of one of our YAML configs (other sections ignored)."""
    with open(path) as f:
        doc = yaml.safe_load(f) or {}
    return doc.get("model") or {}


def stylegan_channels(res, multiplier, cmax):
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256 * multiplier, 128: 128 * multiplier,
            256: 64 * multiplier, 512: 32 * multiplier, 1024: 16 * multiplier}[res]
    return min(base, cmax)


def make_kernel(taps):
    k = torch.tensor(taps, dtype=torch.float32)
    k = k[None, :] * k[:, None]
    return k / k.sum()


def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
    """rosinality upfirdn2d: zero-insert by `up` (zeros after each pixel), pad (pad0, pad1) on both
    axes (negative = crop), correlate with the flipped kernel, keep every `down`-th pixel."""
    n, c, h, w = x.shape
    if up > 1:
        z = x.new_zeros(n, c, h, up, w, up)
        z[:, :, :, 0, :, 0] = x
        x = z.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0): x.shape[2] - max(-p1, 0), max(-p0, 0): x.shape[3] - max(-p1, 0)]
    k = torch.flip(kernel, [0, 1]).to(x)[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, k, groups=c)
    return x[:, :, ::down, ::down]


class FIR(nn.Module):
    """Blur / Upsample with a `kernel` buffer (normalised × gain)."""

    def __init__(self, taps, pad, gain=1.0, up=1, down=1):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps) * gain)
        self.pad, self.up, self.down = pad, up, down

    def forward(self, x):
        return upfirdn2d(x, self.kernel, self.up, self.down, self.pad)


def fused_leaky_relu(x, bias, scale=2 ** 0.5):
    shape = [1, -1] + [1] * (x.dim() - 2)
    return F.leaky_relu(x + bias.view(shape), 0.2) * scale


class FusedLeakyReLU(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return fused_leaky_relu(x, self.bias)


class EqualLinear(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True, bias_init=0.0, lr_mul=1.0, activation=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x):
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        b = self.bias * self.lr_mul if self.bias is not None else None
        return F.linear(x, self.weight * self.scale, b)


class EqualConv2d(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.scale = 1 / math.sqrt(cin * k * k)
        self.stride, self.padding = stride, padding
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


def randomize(module, gen, std=0.5):
    """Overwrite every parameter and float buffer with random values (bias-like zeros would hide
    bugs), keeping FIR kernels intact."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)
        for name, b in module.named_buffers():
            if not name.endswith("kernel") and b.is_floating_point():
                b.copy_(torch.randn(b.shape, generator=gen))


class FixtureWriter:
    """Writes <name>.json (tensor index: name -> shape, offset) and <name>.bin (float32 LE)."""

    def __init__(self):
        self.index, self.chunks, self.offset = {}, [], 0

    def add(self, name, t):
        a = t.detach().cpu().numpy().astype("<f4").ravel()
        self.index[name] = {"shape": list(t.shape), "offset": self.offset}
        self.chunks.append(a)
        self.offset += a.size

    def add_module(self, prefix, module):
        for n, p in module.state_dict().items():
            if p.is_floating_point():
                self.add(prefix + n, p)

    def write(self, directory, name, meta=None):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name + ".bin"), "wb") as f:
            f.write(np.concatenate(self.chunks).tobytes() if self.chunks else b"")
        with open(os.path.join(directory, name + ".json"), "w") as f:
            json.dump({"meta": meta or {}, "tensors": self.index}, f, indent=0, sort_keys=True)
