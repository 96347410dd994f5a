"""PyTorch reference of LPIPS v0.1 (AlexNet) in pSp's criteria/lpips layout: net.layers.* is
torchvision's alexnet().features, net.mean/net.std the input shift/scale, lin.{0..4}.1.weight
the linear heads. `widths` shrinks the conv widths for small test fixtures."""
import torch
import torch.nn as nn

TAPS = [2, 5, 8, 10, 12]


class AlexFeatures(nn.Module):
    def __init__(self, widths=(64, 192, 384, 256, 256)):
        super().__init__()
        w = widths
        self.layers = nn.Sequential(
            nn.Conv2d(3, w[0], 11, 4, 2), nn.ReLU(inplace=False), nn.MaxPool2d(3, 2),
            nn.Conv2d(w[0], w[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(w[1], w[2], 3, padding=1), nn.ReLU(),
            nn.Conv2d(w[2], w[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(w[3], w[4], 3, padding=1), nn.ReLU())
        self.register_buffer("mean", torch.tensor([-.030, -.088, -.188])[None, :, None, None])
        self.register_buffer("std", torch.tensor([.458, .448, .450])[None, :, None, None])

    def forward(self, x):
        x = (x - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.layers, 1):
            x = layer(x)
            if i in TAPS:
                out.append(x / (torch.sqrt(torch.sum(x ** 2, dim=1, keepdim=True)) + 1e-10))
        return out


class LPIPS(nn.Module):
    def __init__(self, widths=(64, 192, 384, 256, 256)):
        super().__init__()
        self.net = AlexFeatures(widths)
        self.lin = nn.ModuleList([nn.Sequential(nn.Identity(), nn.Conv2d(c, 1, 1, 1, 0, bias=False)) for c in widths])

    def forward(self, x, y):
        fx, fy = self.net(x), self.net(y)
        res = [l((a - b) ** 2).mean((2, 3), True) for a, b, l in zip(fx, fy, self.lin)]
        return torch.sum(torch.cat(res, 0)) / x.shape[0]
