"""PyTorch reference of the IR-SE50 ArcFace backbone (TreB1eN InsightFace_Pytorch `Backbone(112,
50, 'ir_se')`, as used by pSp's ID loss), eval mode. `units`/`widths`/`input_size` shrink it for
small test fixtures; the defaults are the real network, whose keys match model_ir_se50.pth."""
import torch
import torch.nn as nn


class SEModule(nn.Module):
    def __init__(self, c, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, max(1, c // reduction), 1, bias=False)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(max(1, c // reduction), c, 1, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class BottleneckIRSE(nn.Module):
    def __init__(self, cin, depth, stride):
        super().__init__()
        if cin == depth:
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(nn.Conv2d(cin, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(cin), nn.Conv2d(cin, depth, 3, 1, 1, bias=False), nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False), nn.BatchNorm2d(depth), SEModule(depth, 16))

    def forward(self, x):
        return self.res_layer(x) + self.shortcut_layer(x)


class IRSE50(nn.Module):
    def __init__(self, input_size=112, units=(3, 4, 14, 3), widths=(64, 128, 256, 512), embedding=512):
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.PReLU(widths[0]))
        blocks, cin = [], widths[0]
        for n, w in zip(units, widths):
            for u in range(n):
                blocks.append(BottleneckIRSE(cin if u == 0 else w, w, 2 if u == 0 else 1))
            cin = w
        self.body = nn.Sequential(*blocks)
        side = input_size // 16
        self.output_layer = nn.Sequential(nn.BatchNorm2d(widths[-1]), nn.Dropout(0.6), nn.Flatten(),
                                          nn.Linear(widths[-1] * side * side, embedding), nn.BatchNorm1d(embedding, affine=True))

    def forward(self, x):
        e = self.output_layer(self.body(self.input_layer(x)))
        return e / torch.norm(e, 2, 1, True)
