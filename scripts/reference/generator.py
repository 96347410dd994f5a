"""PyTorch reference of the StyleGAN2 generator in rosinality's layout (names = state_dict keys),
with ASIT's optional structure code replacing the constant input. Reads our YAML `model.generator`.

The modulated conv here is the original per-sample grouped conv (weight modulated and
demodulated per sample), so the Swift port's shared-weight formulation is checked against it.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import FIR, EqualLinear, FusedLeakyReLU, stylegan_channels


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class ModulatedConv2d(nn.Module):
    def __init__(self, cin, cout, k, style_dim, demodulate=True, upsample=False, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.cin, self.cout, self.k = cin, cout, k
        self.demodulate, self.upsample = demodulate, upsample
        if upsample:
            p = (len(blur_kernel) - 2) - (k - 1)
            self.blur = FIR(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), gain=4)
        self.scale = 1 / math.sqrt(cin * k * k)
        self.padding = k // 2
        self.weight = nn.Parameter(torch.randn(1, cout, cin, k, k))
        self.modulation = EqualLinear(style_dim, cin, bias_init=1)

    def forward(self, x, style):
        b, cin, h, w = x.shape
        s = self.modulation(style).view(b, 1, cin, 1, 1)
        weight = self.scale * self.weight * s                      # [B, out, in, k, k]
        if self.demodulate:
            d = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * d.view(b, self.cout, 1, 1, 1)
        weight = weight.view(b * self.cout, cin, self.k, self.k)
        x = x.view(1, b * cin, h, w)
        if self.upsample:
            weight = weight.view(b, self.cout, cin, self.k, self.k).transpose(1, 2).reshape(b * cin, self.cout, self.k, self.k)
            out = F.conv_transpose2d(x, weight, padding=0, stride=2, groups=b)
            out = out.view(b, self.cout, out.shape[2], out.shape[3])
            return self.blur(out)
        out = F.conv2d(x, weight, padding=self.padding, groups=b)
        return out.view(b, self.cout, out.shape[2], out.shape[3])


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x, noise):
        return x + self.weight * noise


class StyledConv(nn.Module):
    def __init__(self, cin, cout, k, style_dim, upsample=False, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, k, style_dim, upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(cout)

    def forward(self, x, style, noise):
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    def __init__(self, cin, style_dim, upsample=True, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        if upsample:
            p = len(blur_kernel) - 2
            self.upsample = FIR(blur_kernel, pad=((p + 1) // 2 + 1, p // 2), gain=4, up=2)
        self.conv = ModulatedConv2d(cin, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConstantInput(nn.Module):
    def __init__(self, c, size=4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, c, size, size))

    def forward(self, batch):
        return self.input.repeat(batch, 1, 1, 1)


class Generator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.size = cfg.get("size", 256)
        self.style_dim = sd = cfg.get("style_dim", 512)
        n_mlp = cfg.get("n_mlp", 8)
        cm, cmax = cfg.get("channel_multiplier", 2), cfg.get("channel_max", 512)
        lr_mlp = cfg.get("lr_mlp", 0.01)
        bk = tuple(cfg.get("blur_kernel", [1, 3, 3, 1]))
        ch = lambda r: stylegan_channels(r, cm, cmax)
        self.style = nn.Sequential(PixelNorm(), *[EqualLinear(sd, sd, lr_mul=lr_mlp, activation=True) for _ in range(n_mlp)])
        self.input = ConstantInput(ch(4))
        self.conv1 = StyledConv(ch(4), ch(4), 3, sd, blur_kernel=bk)
        self.to_rgb1 = ToRGB(ch(4), sd, upsample=False)
        self.log_size = int(math.log2(self.size))
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.n_latent = self.log_size * 2 - 2
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            r = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, r, r))
        cin = ch(4)
        for i in range(3, self.log_size + 1):
            cout = ch(2 ** i)
            self.convs.append(StyledConv(cin, cout, 3, sd, upsample=True, blur_kernel=bk))
            self.convs.append(StyledConv(cout, cout, 3, sd, blur_kernel=bk))
            self.to_rgbs.append(ToRGB(cout, sd, blur_kernel=bk))
            cin = cout

    def mapping(self, z):
        return self.style(z)

    def mean_latent(self, n):
        with torch.no_grad():
            return self.style(torch.randn(n, self.style_dim)).mean(0)

    def forward(self, latents, structure=None, noise=None):
        """latents [B, n_latent, style_dim]; structure [B, C4, 4, 4] or None; noise list or None
        (stored buffers). Returns (image, {resolution: features})."""
        noise = noise if noise is not None else [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        b = latents.shape[0]
        out = structure if structure is not None else self.input(b)
        feats = {}
        out = self.conv1(out, latents[:, 0], noise[0])
        feats[4] = out
        skip = self.to_rgb1(out, latents[:, 1])
        i = 1
        for c1, c2, n1, n2, rgb in zip(self.convs[::2], self.convs[1::2], noise[1::2], noise[2::2], self.to_rgbs):
            out = c1(out, latents[:, i], n1)
            out = c2(out, latents[:, i + 1], n2)
            skip = rgb(out, latents[:, i + 2], skip)
            feats[out.shape[2]] = out
            i += 2
        return skip, feats
