"""Convert an IFER-Swift checkpoint back to a PyTorch checkpoint.

  --format rosinality  {'g_ema': decoder.* without the prefix, 'latent_avg'} (generator stage)
  --format asit        {'state_dict': encoder.* + decoder.*, 'latent_avg'} (IFER-master ASIT)
  --format ifer        {'state_dict': feature_model.* + head keys} (names unchanged)
  --format plain       one flat state_dict of every parameter and buffer
  --format lpips       two files: OUT (torchvision AlexNet features.N.*) and OUT.lin.pth (linL.model.1.weight)

Deterministic integer buffers are re-created where the target layout has them: num_batches_tracked
(0) after every BatchNorm running_var.

Usage: from_ifer.py IN.h5 OUT.pt --format rosinality
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from ckpt_io import read_checkpoint  # noqa: E402


def convert(inp, out, fmt):
    attrs, params, buffers = read_checkpoint(inp)
    allt = {k: torch.from_numpy(v.copy()) for k, v in {**params, **buffers}.items()}
    for k in list(allt):
        if k.endswith("running_var"):
            allt[k[: -len("running_var")] + "num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    latent = allt.pop("latent_avg", None)
    if fmt == "rosinality":
        obj = {"g_ema": {k[len("decoder."):]: v for k, v in allt.items() if k.startswith("decoder.")}}
        if latent is not None:
            obj["latent_avg"] = latent
    elif fmt == "asit":
        obj = {"state_dict": allt, "latent_avg": latent}
    elif fmt == "ifer":
        obj = {"state_dict": dict(allt)}   # the same names as the authors' ifer_model
    elif fmt == "lpips":
        feats = {"features." + k[len("net.layers."):]: v for k, v in allt.items() if k.startswith("net.layers.")}
        lin = {f"lin{k.split('.')[1]}.model.1.weight": v for k, v in allt.items() if k.startswith("lin.")}
        torch.save(lin, out + ".lin.pth")
        obj = feats
    else:
        obj = allt
        if latent is not None:
            obj["latent_avg"] = latent
    torch.save(obj, out)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--format", choices=["rosinality", "asit", "ifer", "plain", "lpips"], default="plain")
    a = ap.parse_args()
    print(convert(a.input, a.output, a.format))
