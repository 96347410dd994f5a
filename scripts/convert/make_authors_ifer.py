"""A classifier checkpoint in the authors' layout, for the end-to-end conversion test.

Writes into OUT_DIR (default Tests/IFERTrainTests/Fixtures/authors_ifer):
  ifer-master-micro.pth.tar  what IFER-master's timm train script saves for `ifer_model`:
                             {'state_dict': feature_model.* (the GC ViT encoder) + conv.*,
                             style_conv.*, head.* (the head at the top level), 'epoch', 'arch'},
                             random weights (seeded, perturbed) of the micro config with
                             as_coded: true (the authors' global-query code);
  config.yaml                that config (configs/micro/ifer.yaml with as_coded: true);
  face.png                   a 32x32 test image;
  expected.json              the reference model's softmax probabilities on face.png
                             (pixels / 127.5 - 1, no resampling at 32 px);
  ifer-micro.h5              the same weights converted by to_ifer.py ifer --config config.yaml.
Only the converted file and the small ones are committed (not the .pth.tar).

Run with torch from the local wheel (.venv-golden):
  .venv-golden/bin/python scripts/convert/make_authors_ifer.py [OUT_DIR]
The Swift test (AuthorsWeightsTests) runs `ifer predict` on ifer-micro.h5 and compares.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from encoder import DEFAULTS, GCViT  # noqa: E402
from ifer_head import IferHead  # noqa: E402
import yaml  # noqa: E402


class IferModel(nn.Module):
    """IFER-master `ifer_model`: feature_model = the ASIT encoder, the head's modules at the top level."""

    def __init__(self, model_cfg):
        super().__init__()
        enc = dict(DEFAULTS)
        enc.update(model_cfg["encoder"])
        self.feature_model = GCViT(enc)
        h = IferHead(model_cfg["ifer_head"])
        self.conv, self.style_conv, self.head = h.conv, h.style_conv, h.head

    def forward(self, x):
        codes, structure, _ = self.feature_model(x)
        wbar = codes.mean(1)
        y = self.style_conv(self.conv(structure), wbar)
        return self.head(y.mean([2, 3]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "IFERTrainTests", "Fixtures", "authors_ifer")
    os.makedirs(out, exist_ok=True)
    text = open(os.path.join(ROOT, "configs", "micro", "ifer.yaml")).read()
    assert "as_coded: false" in text
    text = text.replace("as_coded: false", "as_coded: true", 1)
    cfg_path = os.path.join(out, "config.yaml")
    with open(cfg_path, "w") as f:
        f.write(text)
    model_cfg = yaml.safe_load(text)["model"]

    torch.manual_seed(21)
    m = IferModel(model_cfg).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape) * 0.05)
    ckpt = os.path.join(out, "ifer-master-micro.pth.tar")
    torch.save({"state_dict": m.state_dict(), "epoch": 0, "arch": "ifer"}, ckpt)

    from PIL import Image
    s = model_cfg["encoder"]["image_size"]
    yy, xx = np.mgrid[0:s, 0:s]
    pix = np.stack([(xx * 7 + yy * 3) % 256, (xx * xx + yy * 5) % 256, (yy * 11 + 40) % 256], -1).astype(np.uint8)
    Image.fromarray(pix, "RGB").save(os.path.join(out, "face.png"))
    x = torch.from_numpy(pix.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    with torch.no_grad():
        probs = torch.softmax(m(x), -1)[0]
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"probabilities": [float(v) for v in probs], "keys": len(m.state_dict())}, f)

    from to_ifer import convert
    print(convert("ifer", ckpt, os.path.join(out, "ifer-micro.h5"), cfg_path))


if __name__ == "__main__":
    main()
