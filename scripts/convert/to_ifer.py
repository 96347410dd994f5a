"""Convert PyTorch weights into an IFER-Swift checkpoint (HDF5, see ckpt_io.py).

Sources:
  rosinality  a rosinality/stylegan2-pytorch checkpoint ({'g_ema': ..., ...}): the generator goes
              to /params/decoder.* and /buffers/decoder.* (noise maps, FIR kernels), plus
              /buffers/latent_avg = the checkpoint's latent_avg, or the mean of --latent-samples
              mapped z ~ N(0, I) (rosinality mean_latent; the FFHQ-256 550000.pt has none).
              --config checks every tensor against our YAML's model.generator (strict).
  asit        an IFER-master ASIT checkpoint ({'state_dict': encoder.* + decoder.*, 'latent_avg'}).
              --config checks encoder.* against model.encoder and decoder.* against
              model.generator (strict; discriminator keys are passed through).
  ifer        an IFER-master / timm classifier checkpoint ({'state_dict' or 'model': feature_model.*
              + head keys conv.*, style_conv.*, head.*}): the keys are kept as they are (our
              classifier uses the authors' names; a DDP `module.` prefix is dropped). --config
              (a run config of stage ifer, with the model.encoder.as_coded the weights were
              trained with) is required: `ifer predict` rebuilds the network from it; every
              tensor is checked against it.
  lpips       torchvision AlexNet (features.N.*) + LPIPS v0.1 alex.pth (linL.model.1.weight), given
              as two files: IN = alexnet.pth, --lin alex.pth; keys net.layers.N.*, lin.L.1.weight.
  irse50      TreB1eN model_ir_se50.pth (keys kept; num_batches_tracked dropped).

Non-float buffers (relative_position_index, num_batches_tracked, fairseq _float_tensor) are
deterministic and are dropped; ifer_from.py re-creates them.

Usage: to_ifer.py SOURCE IN.pt OUT.h5 [--config configs/paper/asit-ffhq.yaml] [--latent-samples N]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from ckpt_io import write_checkpoint  # noqa: E402

DROP_SUFFIXES = ("relative_position_index", "num_batches_tracked", "_float_tensor")
LPIPS_TAPS = [0, 3, 6, 8, 10]


def is_generator_buffer(key):
    return ".noises." in "." + key or key.startswith("noises.") or key.endswith(".kernel")


def split(state, buffer_rule):
    params, buffers = {}, {}
    for k, v in state.items():
        if not torch.is_tensor(v) or k.endswith(DROP_SUFFIXES) or not v.is_floating_point():
            continue
        (buffers if buffer_rule(k) else params)[k] = v.detach().float().cpu().numpy()
    return params, buffers


def mean_latent(g_state, cfg, n, seed=0):
    from generator import Generator
    g = Generator(cfg)
    g.load_state_dict(g_state, strict=True)
    torch.manual_seed(seed)
    with torch.no_grad():
        acc = torch.zeros(g.style_dim, dtype=torch.float64)
        done = 0
        while done < n:
            b = min(4096, n - done)
            acc += g.style(torch.randn(b, g.style_dim)).double().sum(0)
            done += b
    return (acc / n).float().numpy()


def check_against_config(state, cfg_path, section, builder):
    from common import load_model_config
    cfg = load_model_config(cfg_path).get(section) or {}
    ref = builder(cfg).state_dict()
    ours = {k: v for k, v in state.items() if not k.endswith(DROP_SUFFIXES)}
    want = {k: v for k, v in ref.items() if not k.endswith(DROP_SUFFIXES)}
    missing, extra = sorted(set(want) - set(ours)), sorted(set(ours) - set(want))
    bad = [k for k in want if k in ours and tuple(want[k].shape) != tuple(ours[k].shape)]
    if missing or extra or bad:
        raise SystemExit(f"weights do not match {cfg_path} model.{section}: missing {missing[:5]}, "
                         f"unexpected {extra[:5]}, wrong shapes {bad[:5]}")
    return cfg


def check_keys(ours, want, what):
    ours = {k: v for k, v in ours.items() if not k.endswith(DROP_SUFFIXES)}
    want = {k: v for k, v in want.items() if not k.endswith(DROP_SUFFIXES)}
    missing, extra = sorted(set(want) - set(ours)), sorted(set(ours) - set(want))
    bad = [f"{k} {tuple(ours[k].shape)} (expected {tuple(want[k].shape)})"
           for k in want if k in ours and tuple(want[k].shape) != tuple(ours[k].shape)]
    if missing or extra or bad:
        raise SystemExit(f"weights do not match {what}: {len(missing)} missing {missing[:5]}, "
                         f"{len(extra)} unexpected {extra[:5]}, {len(bad)} wrong shapes {bad[:5]}")


def encoder_config(model_cfg):
    from encoder import DEFAULTS
    enc = dict(DEFAULTS)
    enc.update(model_cfg.get("encoder") or {})
    return enc


def prefixed(state, prefix):
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def convert(source, inp, out, config=None, latent_samples=100000, lin=None):
    ck = torch.load(inp, map_location="cpu", weights_only=False)
    cfg_text = open(config).read() if config else ""
    if source == "rosinality":
        g = ck["g_ema"] if "g_ema" in ck else ck
        from generator import Generator
        gcfg = check_against_config(g, config, "generator", Generator) if config else None
        p, b = split(g, is_generator_buffer)
        params = {"decoder." + k: v for k, v in p.items()}
        buffers = {"decoder." + k: v for k, v in b.items()}
        if ck.get("latent_avg") is not None:
            buffers["latent_avg"] = ck["latent_avg"].float().reshape(-1).numpy()
        elif gcfg is not None and latent_samples > 0:
            buffers["latent_avg"] = mean_latent(g, gcfg, latent_samples)
        else:
            print("warning: no latent_avg in the checkpoint and no --config to compute it", file=sys.stderr)
        return write_checkpoint(out, params, buffers, "generator", cfg_text)
    if source == "asit":
        sd = ck.get("state_dict", ck)
        if config:
            from common import load_model_config
            from encoder import GCViT
            from generator import Generator
            mc = load_model_config(config)
            check_keys(prefixed(sd, "encoder."), GCViT(encoder_config(mc)).state_dict(), f"{config} model.encoder (encoder.*)")
            check_keys(prefixed(sd, "decoder."), Generator(mc.get("generator") or {}).state_dict(),
                       f"{config} model.generator (decoder.*)")
        p, b = split(sd, lambda k: k.startswith("decoder.") and is_generator_buffer(k[len("decoder."):]))
        if ck.get("latent_avg") is not None:
            b["latent_avg"] = ck["latent_avg"].float().reshape(-1).numpy()
        return write_checkpoint(out, p, b, "asit", cfg_text)
    if source == "ifer":
        sd = ck.get("state_dict", ck.get("model", ck))
        sd = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}
        if not config:
            raise SystemExit("ifer: pass the run config the weights belong to (--config, e.g. "
                             "configs/paper/ifer-rafdb-authors.yaml): ifer predict rebuilds the network from it")
        from common import load_model_config
        from encoder import GCViT
        from ifer_head import IferHead
        mc = load_model_config(config)
        want = {"feature_model." + k: v for k, v in GCViT(encoder_config(mc)).state_dict().items()}
        want.update(IferHead(mc.get("ifer_head") or {}).state_dict())
        check_keys(sd, want, f"{config} model.encoder + model.ifer_head")
        p, b = split(sd, lambda k: False)
        return write_checkpoint(out, p, b, "ifer", cfg_text)
    if source == "lpips":
        sd = ck.get("state_dict", ck)
        params = {}
        for k, v in sd.items():
            if k.startswith("features."):
                params["net.layers." + k[len("features."):]] = v.float().numpy()
        if lin is None:
            raise SystemExit("lpips: pass the LPIPS v0.1 linear weights with --lin alex.pth")
        for k, v in torch.load(lin, map_location="cpu", weights_only=False).items():
            # lin0.model.1.weight -> lin.0.1.weight
            l = k.split(".")[0][len("lin"):]
            params[f"lin.{l}.1.weight"] = v.float().numpy()
        buffers = {"net.mean": [[[[-.030]], [[-.088]], [[-.188]]]], "net.std": [[[[.458]], [[.448]], [[.450]]]]}
        return write_checkpoint(out, params, buffers, "lpips", cfg_text)
    if source == "irse50":
        sd = ck.get("state_dict", ck)
        p, b = split(sd, lambda k: k.endswith(("running_mean", "running_var")))
        return write_checkpoint(out, p, b, "irse50", cfg_text)
    raise SystemExit(f"unknown source {source!r}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", choices=["rosinality", "asit", "ifer", "lpips", "irse50"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--config", help="our YAML config; checks shapes and sizes mean_latent")
    ap.add_argument("--latent-samples", type=int, default=100000)
    ap.add_argument("--lin", help="LPIPS v0.1 linear weights (alex.pth) for source lpips")
    a = ap.parse_args()
    print(convert(a.source, a.input, a.output, a.config, a.latent_samples, a.lin))
