"""PyTorch reference of the IFER head (IFER-master `ifer_model` minus `feature_model`).
Reads `model.ifer_head`."""
import torch
import torch.nn as nn

from generator import ModulatedConv2d


class IferHead(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, sd = cfg.get("channels", 512), cfg.get("style_dim", 512)
        self.conv = nn.Conv2d(c, c, 1)
        self.style_conv = ModulatedConv2d(c, c, cfg.get("kernel", 3), sd, demodulate=True)
        self.head = nn.Linear(c, cfg.get("num_classes", 7))

    def forward(self, codes, structure):
        wbar = codes.mean(1)
        y = self.style_conv(self.conv(structure), wbar)
        return self.head(y.mean([2, 3]))
