"""PyTorch reference of the IFER-master inversion discriminator: two rosinality ResNet branches
(model_q trained, model_k a momentum copy), output cos(q(a), k(b)). Reads `model.discriminator`."""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import FIR, EqualConv2d, FusedLeakyReLU, stylegan_channels


class ConvLayer(nn.Sequential):
    def __init__(self, cin, cout, k, downsample=False, blur_kernel=(1, 3, 3, 1), bias=True, activate=True):
        layers = []
        if downsample:
            p = (len(blur_kernel) - 2) + (k - 1)
            layers.append(FIR(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, k // 2
        layers.append(EqualConv2d(cin, cout, k, stride=stride, padding=padding, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(cout))
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.conv1 = ConvLayer(cin, cin, 3)
        self.conv2 = ConvLayer(cin, cout, 3, downsample=True)
        self.skip = ConvLayer(cin, cout, 1, downsample=True, activate=False, bias=False)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / (2 ** 0.5)


class DiscriminatorModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        size = cfg.get("size", 256)
        cm, cmax = cfg.get("channel_multiplier", 2), cfg.get("channel_max", 512)
        ch = lambda r: stylegan_channels(r, cm, cmax)
        convs = [ConvLayer(3, ch(size), 1)]
        r = size
        while r > 4:
            convs.append(ResBlock(ch(r), ch(r // 2)))
            r //= 2
        self.convs = nn.Sequential(*convs)
        self.lin = nn.Linear(ch(4), cfg.get("out_dim", 128))

    def forward(self, x):
        return self.lin(self.convs(x).mean([2, 3]))


class Discriminator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model_q = DiscriminatorModel(cfg)
        self.model_k = copy.deepcopy(self.model_q)
        for p in self.model_k.parameters():
            p.requires_grad = False
        self.m = cfg.get("momentum", 0.999)

    @torch.no_grad()
    def momentum_update(self):
        for pk, pq in zip(self.model_k.parameters(), self.model_q.parameters()):
            pk.mul_(self.m).add_(pq.detach(), alpha=1 - self.m)

    def forward(self, a, b):
        q = F.normalize(self.model_q(a), dim=1)
        k = F.normalize(self.model_k(b), dim=1)
        return (q * k).sum(1, keepdim=True)


class StyleGANDiscriminator(nn.Module):
    """rosinality `Discriminator`: ResNet trunk, minibatch stddev, final conv, two EqualLinears
    (the generator stage's GAN discriminator)."""

    def __init__(self, cfg, stddev_group=4):
        super().__init__()
        from common import EqualLinear
        size = cfg.get("size", 256)
        cm, cmax = cfg.get("channel_multiplier", 2), cfg.get("channel_max", 512)
        ch = lambda r: stylegan_channels(r, cm, cmax)
        convs = [ConvLayer(3, ch(size), 1)]
        r = size
        while r > 4:
            convs.append(ResBlock(ch(r), ch(r // 2)))
            r //= 2
        self.convs = nn.Sequential(*convs)
        self.stddev_group, self.stddev_feat = stddev_group, 1
        self.final_conv = ConvLayer(ch(4) + 1, ch(4), 3)
        self.final_linear = nn.Sequential(EqualLinear(ch(4) * 16, ch(4), activation=True), EqualLinear(ch(4), 1))

    def forward(self, x):
        out = self.convs(x)
        b, c, h, w = out.shape
        g = min(b, self.stddev_group)
        s = out.view(g, -1, self.stddev_feat, c // self.stddev_feat, h, w)
        s = torch.sqrt(s.var(0, unbiased=False) + 1e-8)
        s = s.mean([2, 3, 4], keepdim=True).squeeze(2)
        s = s.repeat(g, 1, h, w)
        out = self.final_conv(torch.cat([out, s], 1))
        return self.final_linear(out.view(b, -1))
