"""PyTorch reference of the ASIT encoder (GC ViT backbone + pSp-style style heads), written from
/work/shared/reference/ifer-method.md section 2 to reproduce the authors' modules
(models/encoders/gc_vit.py of Talented-Q/IFER-master) with the same state_dict names.

It reads the `model.encoder` section of our YAML configs, so the same file drives the Swift
model and this one. `as_coded: true` reproduces the three global-query bugs of the early
NVlabs/GCVit code the authors copied (reference section 2, "Known bugs"); `false` is the fix.

Usage:
    .venv-golden/bin/python scripts/reference/encoder.py count configs/paper/asit.yaml
    .venv-golden/bin/python scripts/reference/encoder.py fixtures       # writes the Swift test fixtures

Fixture format (Tests/IFERModelsTests/Fixtures/encoder/<name>.json + .bin): the JSON lists the
config, batch, and for every stored array its name, shape and float offset into the .bin file
(little-endian float32). Parameters are not stored: both sides fill them with `det_values`, an
integer hash every language computes bit-exactly, so only outputs and gradients are stored.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ----------------------------------------------------------------------------- config

DEFAULTS = dict(
    image_size=256, in_channels=3, dim=128, depths=[3, 4, 19, 5], heads=[4, 8, 16, 32],
    windows=[8, 8, 16, 8], mlp_ratio=2.0, layer_scale=1e-5, drop_path=0.5, qkv_bias=True,
    style_width=512, style_counts=[3, 4, 7], style_window=8, style_heads=1, style_mlp_ratio=2.0,
    structure_channels=512, structure_stride=2, num_classes=1000, as_coded=False,
)


def load_config(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    enc = (doc.get("model") or {}).get("encoder")
    if enc is None:
        raise SystemExit(f"{path}: no model.encoder section")
    unknown = set(enc) - set(DEFAULTS)
    if unknown:
        raise SystemExit(f"{path}: unknown keys model.encoder.{sorted(unknown)}")
    cfg = dict(DEFAULTS)
    cfg.update(enc)
    return cfg


# ----------------------------------------------------------------------------- building blocks

class SE(nn.Module):
    """Squeeze-excitation: global average -> Linear(C, C/4) -> GELU -> Linear(C/4, C) -> sigmoid."""

    def __init__(self, c):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, int(c * 0.25), bias=False), nn.GELU(),
                                nn.Linear(int(c * 0.25), c, bias=False), nn.Sigmoid())

    def forward(self, x):  # x: [B, C, H, W]
        y = self.fc(x.mean(dim=(2, 3)))
        return x * y[:, :, None, None]


def conv_block(c):
    """DWConv3x3 -> GELU -> SE -> Conv1x1, keys conv.0 / conv.2.fc.{0,2} / conv.3."""
    return nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.GELU(), SE(c),
                         nn.Conv2d(c, c, 1, 1, 0, bias=False))


class SinusoidalPositionalEmbedding(nn.Module):
    """2-D sinusoidal grid (fairseq/mmgen SPE2d), positions 1..n, padding index 0."""

    def __init__(self, embedding_dim):
        super().__init__()
        self.embedding_dim = embedding_dim
        # Uninitialised in the authors' code (only used for dtype/device); zeros here.
        self.register_buffer("_float_tensor", torch.zeros(1))

    def table(self, n, dtype):
        half = self.embedding_dim // 2
        freq = torch.exp(torch.arange(half, dtype=torch.float64) * -(math.log(10000) / (half - 1)))
        pos = torch.arange(1, n + 1, dtype=torch.float64)[:, None] * freq[None, :]
        return torch.cat([torch.sin(pos), torch.cos(pos)], dim=1).to(dtype)  # [n, emb]

    def make_grid2d(self, h, w, b, dtype):
        xe = self.table(w, dtype).t()  # [emb, w]
        ye = self.table(h, dtype).t()  # [emb, h]
        xg = xe[:, None, :].expand(-1, h, -1)
        yg = ye[:, :, None].expand(-1, -1, w)
        return torch.cat([xg, yg], dim=0)[None].expand(b, -1, -1, -1)  # [b, 2 emb, h, w]


class ReduceSize(nn.Module):
    """LN -> x + conv_block(x) -> Conv3x3 s2 -> LN -> + alpha * sinusoidal grid. Channels-last io."""

    def __init__(self, dim, keep_dim):
        super().__init__()
        dim_out = dim if keep_dim else 2 * dim
        self.alpha = nn.Parameter(torch.zeros(1))
        self.conv = conv_block(dim)
        self.reduction = nn.Conv2d(dim, dim_out, 3, 2, 1, bias=False)
        self.norm2 = nn.LayerNorm(dim_out)
        self.norm1 = nn.LayerNorm(dim)
        self.sin_pos_embed = SinusoidalPositionalEmbedding(dim_out // 2)

    def forward(self, x):  # [B, H, W, C] -> [B, H/2, W/2, C_out]
        x = self.norm1(x).permute(0, 3, 1, 2)
        x = x + self.conv(x)
        x = self.norm2(self.reduction(x).permute(0, 2, 3, 1))
        b, h, w, _ = x.shape
        grid = self.sin_pos_embed.make_grid2d(h, w, b, x.dtype).permute(0, 2, 3, 1)
        return x + grid * self.alpha


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, 3, 2, 1)
        self.conv_down = ReduceSize(dim, keep_dim=True)

    def forward(self, x):  # [B, 3, H, W] -> [B, H/4, W/4, dim]
        return self.conv_down(self.proj(x).permute(0, 2, 3, 1))


class FeatExtract(nn.Module):
    def __init__(self, dim, keep_dim):
        super().__init__()
        self.conv = conv_block(dim)
        self.keep_dim = keep_dim

    def forward(self, x):  # NCHW
        x = x + self.conv(x)
        return x if self.keep_dim else F.max_pool2d(x, 3, 2, 1)


def relative_position_index(w):
    """Swin index: idx[i, j] = (dy + w - 1) * (2w - 1) + (dx + w - 1) for tokens i, j of a w x w window."""
    ys, xs = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[:, None] - ys[None, :] + w - 1
    dx = xs[:, None] - xs[None, :] + w - 1
    return dy * (2 * w - 1) + dx


class WindowAttention(nn.Module):
    """Local (global=False, qkv -> 3C) or global-query (global=True, kv -> 2C) window attention."""

    def __init__(self, dim, num_heads, window, qkv_bias=True, is_global=False, as_coded=False):
        super().__init__()
        self.num_heads, self.window, self.is_global, self.as_coded = num_heads, window, is_global, as_coded
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv = nn.Linear(dim, dim * (2 if is_global else 3), bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, q_global=None):  # x: [B_, N, C] windows; q_global: [B, C, w, w]
        B_, N, C = x.shape
        h, d = self.num_heads, C // self.num_heads
        if not self.is_global:
            qkv = self.qkv(x).reshape(B_, N, 3, h, d).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
        else:
            kv = self.qkv(x).reshape(B_, N, 2, h, d).permute(2, 0, 3, 1, 4)
            k, v = kv[0], kv[1]
            B = q_global.shape[0]
            if self.as_coded:
                # Bugs (b) and (c): tile the whole batch (b0, b1, b0, b1, ...) and reshape the
                # [C, w, w] map straight into heads without moving channels last.
                q = q_global.repeat(B_ // B, 1, 1, 1).reshape(B_, h, N, d)
            else:
                # Fix (NVlabs PR #12): tokens x channels, split heads, each image's query serves
                # that image's windows (batch-major, like window_partition).
                q = q_global.permute(0, 2, 3, 1).reshape(B, N, h, d).permute(0, 2, 1, 3)
                q = q.repeat_interleave(B_ // B, dim=0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
        attn = (attn + bias.permute(2, 0, 1)[None]).softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(B_, N, C)
        return self.proj(out)


def window_partition(x, w):  # [B, H, W, C] -> [B * H/w * W/w, w*w, C]
    B, H, W, C = x.shape
    x = x.view(B, H // w, w, W // w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, C)


def window_reverse(x, w, H, W):  # [B * nW, w*w, C] -> [B, H, W, C]
    C = x.shape[-1]
    B = x.shape[0] // ((H // w) * (W // w))
    x = x.view(B, H // w, W // w, w, w, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, C)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


def drop_path(x, p, training):
    if p == 0.0 or not training:
        return x
    keep = (torch.rand(x.shape[0], *([1] * (x.dim() - 1)), dtype=x.dtype) >= p).to(x.dtype)
    return x * keep / (1 - p)


class GCViTBlock(nn.Module):
    def __init__(self, dim, heads, window, mlp_ratio, qkv_bias, drop_path, layer_scale, is_global, as_coded):
        super().__init__()
        self.window, self.drop_path = window, drop_path
        self.gamma1 = nn.Parameter(layer_scale * torch.ones(dim))
        self.gamma2 = nn.Parameter(layer_scale * torch.ones(dim))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window, qkv_bias, is_global, as_coded)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, q_global):  # [B, H, W, C]
        B, H, W, C = x.shape
        y = window_partition(self.norm1(x), self.window)
        y = window_reverse(self.attn(y, q_global), self.window, H, W)
        x = x + drop_path(self.gamma1 * y, self.drop_path, self.training)
        return x + drop_path(self.gamma2 * self.mlp(self.norm2(x)), self.drop_path, self.training)


class GCViTLayer(nn.Module):
    def __init__(self, dim, depth, resolution, heads, window, mlp_ratio, qkv_bias, drop_paths,
                 layer_scale, downsample, as_coded):
        super().__init__()
        self.dim, self.resolution, self.as_coded = dim, resolution, as_coded
        self.blocks = nn.ModuleList([
            GCViTBlock(dim, heads, window, mlp_ratio, qkv_bias, drop_paths[i], layer_scale, i % 2 == 1, as_coded)
            for i in range(depth)])
        self.downsample = ReduceSize(dim, keep_dim=False) if downsample else None
        # The global-query generator brings the R x R map down to the w x w window.
        pools = int(round(math.log2(resolution // window)))
        if pools == 0:
            self.to_q_global = nn.Sequential(FeatExtract(dim, keep_dim=True))
        else:
            self.to_q_global = nn.Sequential(*[FeatExtract(dim, keep_dim=False) for _ in range(pools)])

    def forward(self, x):  # [B, R, R, C]
        if self.as_coded:
            qin = x.reshape(-1, self.dim, self.resolution, self.resolution)  # bug (a): view, not permute
        else:
            qin = x.permute(0, 3, 1, 2)
        q_global = self.to_q_global(qin)
        for blk in self.blocks:
            x = blk(x, q_global)
        return x if self.downsample is None else self.downsample(x)


class StyleBlock(nn.Module):
    """Window transformer of the style heads: no norm before the MLP, no layer scale."""

    def __init__(self, dim, heads, window, mlp_ratio):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):  # NCHW
        x = x.permute(0, 2, 3, 1)
        B, H, W, C = x.shape
        y = window_partition(self.norm1(x), self.window)
        x = x + window_reverse(self.attn(y), self.window, H, W)
        x = x + self.mlp(x)
        return x.permute(0, 3, 1, 2)


class EqualLinear(nn.Module):
    def __init__(self, in_dim, out_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.scale = 1 / math.sqrt(in_dim)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class GradualStyleBlock(nn.Module):
    """S x S map -> conv s2, then StyleBlock + maxpool while the map is >= window, else conv s2."""

    def __init__(self, c, spatial, window, heads, mlp_ratio):
        super().__init__()
        self.c = c
        mods = [nn.Conv2d(c, c, 3, 2, 1), nn.LeakyReLU()]
        s = spatial // 2
        while s > 1:
            if s >= window:
                mods += [StyleBlock(c, heads, window, mlp_ratio), nn.MaxPool2d(2, 2)]
            else:
                mods += [nn.Conv2d(c, c, 3, 2, 1), nn.LeakyReLU()]
            s //= 2
        self.blocks = nn.Sequential(*mods)
        self.linear = EqualLinear(c, c)

    def forward(self, x):
        return self.linear(self.blocks(x).reshape(-1, self.c))


class GCViT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        depths, L = cfg["depths"], len(cfg["depths"])
        dim, S = cfg["dim"], cfg["style_width"]
        P = len(cfg["style_counts"])
        self.P, self.counts = P, cfg["style_counts"]
        dpr = [float(v) for v in torch.linspace(0, cfg["drop_path"], sum(depths))]
        self.patch_embed = PatchEmbed(cfg["in_channels"], dim)
        self.levels = nn.ModuleList()
        self.convs = nn.ModuleList()
        res = cfg["image_size"] // 4
        for i in range(L):
            lo = sum(depths[:i])
            self.levels.append(GCViTLayer(dim * 2 ** i, depths[i], res >> i, cfg["heads"][i], cfg["windows"][i],
                                          cfg["mlp_ratio"], cfg["qkv_bias"], dpr[lo:lo + depths[i]],
                                          cfg["layer_scale"], i < L - 1, cfg["as_coded"]))
            if i < P:
                self.convs.append(nn.Conv2d(dim * 2 ** i, S, 1))
        cl = dim * 2 ** (L - 1)
        self.last_block = nn.Conv2d(cl, cfg["structure_channels"], 3, cfg["structure_stride"], 1)
        self.styles = nn.ModuleList()
        for g, n in enumerate(self.counts):
            spatial = res >> (P - 1 - g)
            for _ in range(n):
                self.styles.append(GradualStyleBlock(S, spatial, cfg["style_window"], cfg["style_heads"],
                                                     cfg["style_mlp_ratio"]))
        for k in range(1, P):
            setattr(self, f"latlayer{k}", nn.Conv2d(dim * 2 ** (P - 1 - k), S, 1))
        self.norm = nn.LayerNorm(cl)
        if cfg["num_classes"] > 0:
            self.head = nn.Linear(cl, cfg["num_classes"])

    def forward(self, x):
        x = self.patch_embed(x)
        cs, feats = [], []
        for i, level in enumerate(self.levels):
            if i < self.P:
                c = x.permute(0, 3, 1, 2)
                cs.append(c)
                feats.append(F.leaky_relu(self.convs[i](c), 0.01))
            x = level(x)
        latents, j = [], 0
        p = cs[self.P - 1]
        for g, n in enumerate(self.counts):
            if g > 0:
                lat = getattr(self, f"latlayer{g}")(cs[self.P - 1 - g])
                p = F.interpolate(p, size=lat.shape[-2:], mode="bilinear", align_corners=True) + lat
            for _ in range(n):
                latents.append(self.styles[j](p))
                j += 1
        structure = self.last_block(x.permute(0, 3, 1, 2))
        return torch.stack(latents, dim=1), structure, feats


# ----------------------------------------------------------------------------- deterministic values

MASK = (1 << 64) - 1


def det_values(n, stream):
    """n values in [-1, 1) from a SplitMix64 hash of (stream, index): exact in any language."""
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (i + np.uint64(stream) * np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    top = (z >> np.uint64(40)).astype(np.float64)  # 24 bits
    return (top / float(1 << 23) - 1.0).astype(np.float32)


def det_param(name, shape, k):
    """Deterministic test value for parameter number k with this name: every path matters."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = det_values(n, 1000 + k).astype(np.float64)
    leaf = name.split(".")[-1]
    if name.endswith("alpha"):
        v = 0.5 + 0.0 * u
    elif leaf in ("gamma1", "gamma2"):
        v = 0.5 + 0.2 * u
    elif leaf == "relative_position_bias_table":
        v = 0.5 * u
    elif leaf == "bias":
        v = 0.1 * u
    elif len(shape) == 1:  # LayerNorm weight
        v = 1.0 + 0.2 * u
    elif name.endswith("linear.weight"):  # EqualLinear: N(0, 1)-sized, scaled at run time
        v = 1.7 * u
    else:
        fan_in = int(np.prod(shape[1:]))
        v = 1.7 * u / math.sqrt(fan_in)
    # Rounded to float32 so the float32 Swift model holds exactly the same values.
    return torch.tensor(v.astype(np.float32).astype(np.float64).reshape(shape), dtype=torch.float64)


# ----------------------------------------------------------------------------- commands

def count(path):
    torch.manual_seed(0)
    model = GCViT(load_config(path))
    n = sum(p.numel() for p in model.parameters())
    print(f"{path}: {n} parameters, {len(model.state_dict())} state_dict keys")


def write_fixture(cfg_path, name, as_coded, batch=2):
    cfg = load_config(cfg_path)
    cfg["as_coded"] = as_coded
    torch.manual_seed(0)
    model = GCViT(cfg).double().eval()
    names = []
    with torch.no_grad():
        for k, (n, p) in enumerate(model.named_parameters()):
            p.copy_(det_param(n, tuple(p.shape), k))
            names.append(n)
    size, c = cfg["image_size"], cfg["in_channels"]
    x = torch.tensor(det_values(batch * c * size * size, 7).reshape(batch, c, size, size),
                     dtype=torch.float64, requires_grad=True)
    codes, struct, feats = model(x)
    outs = [("codes", codes), ("structure", struct)] + [(f"f{i + 1}", f) for i, f in enumerate(feats)]
    # Loss = sum over outputs of sum(output * seed), seeds from stream 100 + output index.
    loss = 0
    for i, (_, o) in enumerate(outs):
        seed = torch.tensor(det_values(o.numel(), 100 + i).reshape(o.shape), dtype=torch.float64)
        loss = loss + (o * seed).sum()
    params = [p for _, p in model.named_parameters()]
    grads = torch.autograd.grad(loss, [x] + params, allow_unused=True)  # the unused norm has none
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip([x] + params, grads)]
    arrays = outs + [("grad.input", grads[0])] + [("grad." + n, g) for n, g in zip(names, grads[1:])]
    out_dir = os.path.join(ROOT, "Tests", "IFERModelsTests", "Fixtures", "encoder")
    os.makedirs(out_dir, exist_ok=True)
    meta, blobs, offset = [], [], 0
    for n, a in arrays:
        flat = a.detach().to(torch.float32).reshape(-1).numpy()
        meta.append({"name": n, "shape": list(a.shape), "offset": offset})
        blobs.append(flat)
        offset += flat.size
    np.concatenate(blobs).astype("<f4").tofile(os.path.join(out_dir, name + ".bin"))
    doc = {"config": os.path.relpath(cfg_path, ROOT), "as_coded": as_coded, "batch": batch,
           "parameters": names, "arrays": meta}
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1)
    print(f"{name}: {offset} floats, loss {loss.item():.6f}")


def fixtures():
    cfg = os.path.join(ROOT, "Tests", "IFERModelsTests", "Fixtures", "encoder", "micro_encoder.yaml")
    write_fixture(cfg, "micro_fixed", as_coded=False)
    write_fixture(cfg, "micro_as_coded", as_coded=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "count":
        count(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "fixtures":
        fixtures()
    else:
        raise SystemExit(__doc__)
