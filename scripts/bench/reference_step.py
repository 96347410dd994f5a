#!/usr/bin/env python3
"""The training step of a stage (asit, ifer or generator) built in PyTorch from the project's
reference modules (scripts/reference: the authors' ASIT encoder, rosinality's generator and
discriminators, the IFER head), timed the way `ifer bench step --config FILE` times ours: the same
config file, the same batch size, one fixed batch, the same losses, optimisers and frozen parts,
the same step counter (lazy regularisation lands on the same steps), the same repetition rule
(benchlib.measure = our Timing.measure). One JSON line per thread count, shaped like ours:

    {"case": "asit_step_b8", "config": ..., "stage": "asit", "threads": 1, "ms": ..., "images_per_s": ..., "reps": ...}

and first a line with the parameter count of every network, checked against
`ifer inspect --config FILE --json` (the run stops if any differs: then it is not the same model).

The steps (ours: Sources/IFERTrain/Stages/*.swift, reference/ifer-method.md section 4):
  asit       D step: ŷ = G(E(x)) without gradients or drop path; momentum update of model_k before
             each D call; L_D = mean (D(x, x) − 1)² + mean (D(ŷ, x) + 1)²; Ranger on model_q.
             E step: ŷ = G(E(x)) with drop path; L = l2·MSE + dist·L_dist (source features of G(z)
             at model.generator.feature_resolutions) + adv·mean (D(ŷ, x) − 1)², D frozen;
             clip if optim.clip_grad; Ranger on the encoder. G is frozen throughout. LPIPS / ID
             only with converted weights (loss.lpips_weights, loss.id_weights), as ours: the
             configs timed here have none, so both are off on both sides.
  ifer       mixup / cutmix when configured, soft-target cross entropy (label smoothing) of
             head(E(x)) with drop path, clip, AdamW (or the configured optimizer).
  generator  rosinality train.py: D step (softplus losses), lazy R1 every r1_every steps, G step
             through a frozen D with per-sample style mixing and noise, lazy path-length
             regularisation every path_every steps on batch / path_batch_shrink samples, g_ema;
             Adam with the lazy-regularisation corrections.

    .venv-golden/bin/python scripts/bench/reference_step.py --config configs/tiny/asit.yaml --batch 8 --threads 1,2
"""
import argparse
import copy
import json
import math
import os
import subprocess
import sys

import torch
import torch.nn.functional as F
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import ROOT, measure  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "scripts", "reference"))
import encoder as ref_encoder  # noqa: E402
from common import load_model_config  # noqa: E402
from discriminator import Discriminator, StyleGANDiscriminator  # noqa: E402
from generator import Generator  # noqa: E402
from ifer_head import IferHead  # noqa: E402

# Our RunConfig defaults for the keys a step reads (Sources/IFERTrain/Config/RunConfig.swift).
DEFAULTS = {
    "train": {"stage": "ifer", "seed": 0, "latent_avg_samples": 10000},
    "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": 0.05, "betas": [0.9, 0.999], "eps": 1e-8, "clip_grad": 0.0},
    "loss": {"label_smoothing": 0.1, "mixup_alpha": 0.0, "cutmix_alpha": 0.0, "mixup_prob": 1.0, "switch_prob": 0.5,
             "l2": 1.0, "lpips": 0.8, "id": 0.1, "dist": 0.01, "adv": 1e-4, "lpips_weights": "", "id_weights": ""},
    "gan": {"r1": 10.0, "r1_every": 16, "path_weight": 2.0, "path_every": 4, "path_batch_shrink": 2,
            "path_decay": 0.01, "mixing": 0.9, "ema_kimg": 10.0},
}


def run_config(path):
    """The sections a step reads, with our defaults filled in."""
    with open(path) as f:
        doc = yaml.safe_load(f) or {}
    cfg = {k: dict(v, **(doc.get(k) or {})) for k, v in DEFAULTS.items()}
    cfg["model"] = doc.get("model") or {}
    return cfg


class Ranger(torch.optim.Optimizer):
    """pSp's Ranger (RAdam + Lookahead k 6, alpha 0.5 + gradient centralisation on tensors of rank
    > 1, N_sma threshold 5, coupled weight decay), per parameter with torch ops as pSp's
    ranger.py; the same update as Sources/IFEROptim/Ranger.swift."""

    def __init__(self, params, lr, betas, eps, weight_decay, alpha=0.5, k=6, threshold=5.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))
        self.alpha, self.k, self.threshold = alpha, k, threshold

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            (b1, b2), lr, eps, wd = group["betas"], group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if g.dim() > 1:
                    g = g - g.mean(dim=tuple(range(1, g.dim())), keepdim=True)
                st = self.state[p]
                if not st:
                    st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p), slow=p.clone())
                st["step"] += 1
                t = st["step"]
                st["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                st["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                b2t = b2 ** t
                rho_inf = 2 / (1 - b2) - 1
                rho_t = rho_inf - 2 * t * b2t / (1 - b2t)
                c1 = 1 - b1 ** t
                if wd != 0:
                    p.add_(p, alpha=-wd * lr)
                if rho_t > self.threshold:
                    r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    p.addcdiv_(st["exp_avg"], st["exp_avg_sq"].sqrt().add_(eps), value=-lr * r * math.sqrt(1 - b2t) / c1)
                else:
                    p.add_(st["exp_avg"], alpha=-lr / c1)
                if t % self.k == 0:
                    st["slow"].add_(p - st["slow"], alpha=self.alpha)
                    p.copy_(st["slow"])


def make_optimizer(params, o, lr=None, betas=None):
    params = [p for p in params if p.requires_grad]
    lr = o["lr"] if lr is None else lr
    betas = o["betas"] if betas is None else betas
    if o["name"] == "ranger":
        return Ranger(params, lr, betas, o["eps"], o["weight_decay"])
    if o["name"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=o["eps"], weight_decay=o["weight_decay"])
    if o["name"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=o["eps"], weight_decay=o["weight_decay"])
    raise SystemExit(f"optim.name {o['name']!r}: not in this bench (ranger, adam, adamw)")


def count(module):
    return sum(p.numel() for p in module.parameters())


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad_(flag)


# ----------------------------------------------------------------------------- asit

def similarity_logits(f):
    """cos(vec f_i, vec f_j) off the diagonal, 0 on it: f [N, ...] -> [N, N] (InversionLosses.similarityLogits)."""
    n = f.shape[0]
    flat = f.reshape(n, -1)
    unit = flat * torch.rsqrt(flat.pow(2).sum(1, keepdim=True) + 1e-12)
    return (unit @ unit.t()) * (1 - torch.eye(n))


def distribution_loss(source, target):
    total = 0
    for s, t in zip(source, target):
        with torch.no_grad():
            ps = F.softmax(similarity_logits(s), dim=-1)
        total = total + F.kl_div(F.log_softmax(similarity_logits(t), dim=-1), ps, reduction="sum")
    return total


class AsitStep:
    def __init__(self, cfg, path, batch, gen):
        mc, self.w = cfg["model"], cfg["loss"]
        if (self.w["lpips"] > 0 and self.w["lpips_weights"]) or (self.w["id"] > 0 and self.w["id_weights"]):
            raise SystemExit(f"{path}: LPIPS / ID weights are set; this bench times the step without them (as our configs here)")
        self.encoder = ref_encoder.GCViT(ref_encoder.load_config(path))
        self.g = Generator(mc["generator"])
        set_requires_grad(self.g, False)
        self.d = Discriminator(mc.get("discriminator") or {})
        self.feature_resolutions = mc["generator"].get("feature_resolutions", [])
        self.latent_avg = self.g.mean_latent(cfg["train"]["latent_avg_samples"])
        self.opt_e = make_optimizer(self.encoder.parameters(), cfg["optim"])
        self.opt_d = make_optimizer(self.d.model_q.parameters(), cfg["optim"])
        self.clip = cfg["optim"]["clip_grad"]
        s = self.encoder.cfg["image_size"]
        self.x = torch.rand(batch, 3, s, s, generator=gen) * 2 - 1
        self.params = {"encoder": count(self.encoder), "generator": count(self.g), "discriminator_q": count(self.d.model_q)}

    def invert(self, x):
        codes, structure, feats = self.encoder(x)
        # The encoder's last conv reads a permuted (channels-last) map and keeps that layout; the
        # grouped modulated conv views its input as [1, B*C, H, W], which needs NCHW-contiguous.
        image, _ = self.g(codes + self.latent_avg, structure.contiguous())
        return image, feats

    def source_features(self, b):
        z = torch.randn(b, self.g.style_dim)
        with torch.no_grad():
            w = self.g.mapping(z)[:, None, :].repeat(1, self.g.n_latent, 1)
            _, feats = self.g(w)
        return [feats[r] for r in self.feature_resolutions]

    def __call__(self, step):
        x, d, w = self.x, self.d, self.w
        # D step: the reconstruction is a constant, drop path off.
        self.encoder.eval()
        with torch.no_grad():
            y_hat, _ = self.invert(x)
        self.opt_d.zero_grad(set_to_none=True)
        d.momentum_update()
        real = d(x, x)
        d.momentum_update()
        fake = d(y_hat, x)
        loss_d = (real - 1).pow(2).mean() + (fake + 1).pow(2).mean()
        loss_d.backward()
        self.opt_d.step()
        # E step: drop path on; the discriminator passes gradient but takes none.
        self.encoder.train()
        self.opt_e.zero_grad(set_to_none=True)
        image, feats = self.invert(x)
        loss = w["l2"] * F.mse_loss(image, x)
        if w["dist"] > 0:
            loss = loss + w["dist"] * distribution_loss(self.source_features(x.shape[0]), feats)
        set_requires_grad(d.model_q, False)
        if w["adv"] > 0:
            d.momentum_update()
            loss = loss + w["adv"] * (d(image, x) - 1).pow(2).mean()
        loss.backward()
        set_requires_grad(d.model_q, True)
        if self.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.encoder.parameters(), self.clip)
        self.opt_e.step()


# ----------------------------------------------------------------------------- ifer

class IferStep:
    def __init__(self, cfg, path, batch, gen):
        mc, self.l = cfg["model"], cfg["loss"]
        self.encoder = ref_encoder.GCViT(ref_encoder.load_config(path))
        self.head = IferHead(mc.get("ifer_head") or {})
        self.classes = self.head.head.out_features
        params = list(self.encoder.parameters()) + list(self.head.parameters())
        self.params_list = params
        self.opt = make_optimizer(params, cfg["optim"])
        self.clip = cfg["optim"]["clip_grad"]
        s = self.encoder.cfg["image_size"]
        self.x = torch.rand(batch, 3, s, s, generator=gen) * 2 - 1
        self.y = torch.randint(0, self.classes, (batch,), generator=gen)
        self.params = {"encoder": count(self.encoder), "ifer_head": count(self.head)}

    def mix(self, x, y):
        """Smoothed one-hot targets; with mixup / cutmix configured, the batch mixed with its flip (timm Mixup)."""
        eps, k = self.l["label_smoothing"], self.classes
        onehot = F.one_hot(y, k).float() * (1 - eps) + eps / k
        ma, ca = self.l["mixup_alpha"], self.l["cutmix_alpha"]
        if (ma <= 0 and ca <= 0) or torch.rand(()) >= self.l["mixup_prob"]:
            return x, onehot
        cut = ca > 0 and (ma <= 0 or torch.rand(()) < self.l["switch_prob"])
        lam = float(torch.distributions.Beta(ca if cut else ma, ca if cut else ma).sample())
        xf = x.flip(0)
        if cut:
            s = x.shape[-1]
            r = int(s * math.sqrt(1 - lam))
            cy, cx = int(torch.randint(0, s, ())), int(torch.randint(0, s, ()))
            y0, y1, x0, x1 = max(cy - r // 2, 0), min(cy + r // 2, s), max(cx - r // 2, 0), min(cx + r // 2, s)
            x = x.clone()
            x[:, :, y0:y1, x0:x1] = xf[:, :, y0:y1, x0:x1]
            lam = 1 - (y1 - y0) * (x1 - x0) / (s * s)
        else:
            x = lam * x + (1 - lam) * xf
        return x, lam * onehot + (1 - lam) * onehot.flip(0)

    def __call__(self, step):
        x, t = self.mix(self.x, self.y)
        self.opt.zero_grad(set_to_none=True)
        codes, structure, _ = self.encoder(x)
        loss = F.cross_entropy(self.head(codes, structure.contiguous()), t)   # NCHW, see AsitStep.invert
        loss.backward()
        if self.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params_list, self.clip)
        self.opt.step()


# ----------------------------------------------------------------------------- generator

class GeneratorStep:
    def __init__(self, cfg, path, batch, gen):
        mc, self.gan = cfg["model"], cfg["gan"]
        dc = mc.get("discriminator") or {}
        self.g = Generator(mc["generator"])
        self.g_ema = copy.deepcopy(self.g)
        set_requires_grad(self.g_ema, False)
        self.d = StyleGANDiscriminator(dc, stddev_group=dc.get("stddev_group", 4))
        g, o = self.gan, cfg["optim"]
        rg, rd = g["path_every"] / (g["path_every"] + 1), g["r1_every"] / (g["r1_every"] + 1)
        self.opt_g = make_optimizer(self.g.parameters(), o, lr=o["lr"] * rg, betas=[b ** rg for b in o["betas"]])
        self.opt_d = make_optimizer(self.d.parameters(), o, lr=o["lr"] * rd, betas=[b ** rd for b in o["betas"]])
        self.ema_beta = 0.5 ** (batch / (1000 * g["ema_kimg"]))
        self.mean_path_length = 0.0
        s = self.g.size
        self.x = torch.rand(batch, 3, s, s, generator=gen) * 2 - 1
        self.params = {"generator": count(self.g), "discriminator": count(self.d)}

    def latents(self, b):
        """W+ codes with per-sample style mixing (probability `mixing`, crossover k uniform in 1..n-1)."""
        n, s = self.g.n_latent, self.g.style_dim
        w1 = self.g.mapping(torch.randn(b, s))[:, None, :]
        w2 = self.g.mapping(torch.randn(b, s))[:, None, :]
        cut = torch.where(torch.rand(b) < self.gan["mixing"], torch.randint(1, max(n, 2), (b,)), torch.full((b,), n))
        first = (torch.arange(n)[None, :] < cut[:, None]).float()[:, :, None]
        return first * w1 + (1 - first) * w2

    def noise(self, b):
        return [torch.randn(b, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2)) for i in range(self.g.num_layers)]

    def __call__(self, step):
        x, g, d, gan = self.x, self.g, self.d, self.gan
        b = x.shape[0]
        with torch.no_grad():
            fake, _ = g(self.latents(b), noise=self.noise(b))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d = F.softplus(-d(x)).mean() + F.softplus(d(fake)).mean()
        loss_d.backward()
        self.opt_d.step()
        if gan["r1"] > 0 and step % gan["r1_every"] == 0:
            xr = x.detach().requires_grad_(True)
            pred = d(xr)
            grad, = torch.autograd.grad(pred.sum(), xr, create_graph=True)
            r1 = grad.pow(2).reshape(b, -1).sum(1).mean()
            self.opt_d.zero_grad(set_to_none=True)
            (r1 * (gan["r1"] / 2 * gan["r1_every"])).backward()
            self.opt_d.step()
        set_requires_grad(d, False)
        self.opt_g.zero_grad(set_to_none=True)
        img, _ = g(self.latents(b), noise=self.noise(b))
        F.softplus(-d(img)).mean().backward()
        set_requires_grad(d, True)
        self.opt_g.step()
        if gan["path_weight"] > 0 and step % gan["path_every"] == 0:
            p = max(1, b // gan["path_batch_shrink"])
            lat = self.latents(p)
            img, _ = g(lat, noise=self.noise(p))
            n = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
            grad, = torch.autograd.grad((img * n).sum(), lat, create_graph=True)
            lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))
            path_mean = self.mean_path_length + gan["path_decay"] * (lengths.mean() - self.mean_path_length)
            penalty = (lengths - path_mean).pow(2).mean()
            self.opt_g.zero_grad(set_to_none=True)
            (penalty * gan["path_weight"] * gan["path_every"]).backward()
            self.opt_g.step()
            self.mean_path_length = float(path_mean.detach())
        with torch.no_grad():
            for pe, pg in zip(self.g_ema.parameters(), g.parameters()):
                pe.mul_(self.ema_beta).add_(pg, alpha=1 - self.ema_beta)


STAGES = {"asit": AsitStep, "ifer": IferStep, "generator": GeneratorStep}


def check_params(ifer, config, ours_side):
    """Our per-network parameter counts (`ifer inspect --json`) must equal the reference's."""
    out = subprocess.run([ifer, "inspect", "--config", config, "--json"], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)["params"]
    bad = [f"{k}: reference {v}, ours {ours.get(k)}" for k, v in ours_side.items() if ours.get(k) != v]
    if bad:
        raise SystemExit(f"{config}: parameter counts differ (not the same model):\n  " + "\n  ".join(bad))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--min-time", type=float, default=3.0, help="as ours: minimum seconds of timed steps per thread count")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (ours: 2)")
    ap.add_argument("--reps", type=int, default=5, help="at least this many timed steps (ours: 5)")
    ap.add_argument("--ifer", default=os.path.join(ROOT, ".build", "release", "ifer"),
                    help="our binary, for the parameter-count check (`ifer inspect --json`)")
    ap.add_argument("--no-check", action="store_true", help="skip the parameter-count check")
    a = ap.parse_args()
    cfg = run_config(a.config)
    stage = cfg["train"]["stage"]
    if stage not in STAGES:
        raise SystemExit(f"{a.config}: train.stage {stage!r} has no reference step here ({', '.join(STAGES)})")
    torch.manual_seed(cfg["train"]["seed"])
    step = STAGES[stage](cfg, a.config, a.batch, torch.Generator().manual_seed(7))
    checked = False
    if not a.no_check:
        if not os.path.exists(a.ifer):
            raise SystemExit(f"{a.ifer}: not found (build ours, pass --ifer, or --no-check)")
        check_params(a.ifer, a.config, step.params)
        checked = True
    print(json.dumps({"config": a.config, "stage": stage, "side": "reference", "params": step.params,
                      "params_equal_ours": checked, "torch": torch.__version__}), flush=True)
    for th in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(th)
        counter = [0]

        def body():
            step(counter[0])
            counter[0] += 1
        ms, n = measure(body, warmup=a.warmup, reps=a.reps, min_time=a.min_time)
        print(json.dumps({"case": f"{stage}_step_b{a.batch}", "config": a.config, "stage": stage, "threads": th,
                          "ms": round(ms, 3), "images_per_s": round(a.batch / (ms * 1e-3), 3), "reps": n,
                          "side": "reference"}), flush=True)


if __name__ == "__main__":
    main()
