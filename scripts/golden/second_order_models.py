"""End-to-end second-order fixtures on the project's micro StyleGAN2 modules (PyTorch references in
scripts/reference/, the same weights as the committed model fixtures):

  r1_penalty.{json,bin}: the lazy R1 penalty of rosinality's train.py on real images x,
      grad_real = d sum(D(x)) / dx (create_graph=True), penalty = mean_i ||grad_real_i||²,
      and d(gamma/2 · penalty)/d(every discriminator parameter).
  path_length.{json,bin}: the path-length penalty (rosinality g_path_regularize) for latents
      w = mapping(z) repeated over the n_latent codes, noise ~ N(0, 1)/√(HW),
      grad = d sum(G(latents) · noise) / d latents (create_graph=True),
      path_lengths = √(mean over codes of Σ grad²), path_mean = m + 0.01 (mean(path_lengths) − m),
      penalty = mean((path_lengths − path_mean)²), and d penalty / d(every generator parameter).

Written to Tests/IFERModelsTests/Fixtures/. Run: cd scripts/golden && ../../.venv-golden/bin/python second_order_models.py
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "reference"))
from common import FixtureWriter, load_model_config  # noqa: E402
from discriminator import StyleGANDiscriminator  # noqa: E402
from generator import Generator  # noqa: E402

FIX = os.path.join(ROOT, "Tests", "IFERModelsTests", "Fixtures")
GAMMA = 10.0
MEAN_PATH_LENGTH = 0.5


def read_fixture(name):
    with open(os.path.join(FIX, name + ".json")) as f:
        index = json.load(f)["tensors"]
    values = np.fromfile(os.path.join(FIX, name + ".bin"), dtype="<f4")
    return {k: torch.from_numpy(values[e["offset"]:e["offset"] + int(np.prod(e["shape"]))].copy()).reshape(e["shape"])
            for k, e in index.items()}


def load_weights(module, fixture):
    sd = module.state_dict()
    missing = [k for k in sd if k not in fixture]
    assert not missing, missing
    module.load_state_dict({k: fixture[k].reshape(sd[k].shape) for k in sd})


def add_param_grads(w, module):
    for n, p in module.named_parameters():
        w.add("grad." + n, p.grad if p.grad is not None else torch.zeros_like(p))


def r1(cfg):
    fx = read_fixture("stylegan_discriminator")
    d = StyleGANDiscriminator(cfg["discriminator"])
    load_weights(d, fx)
    x = fx["x"].clone().requires_grad_(True)
    pred = d(x)
    grad_real, = torch.autograd.grad(pred.sum(), x, create_graph=True)
    penalty = grad_real.pow(2).reshape(grad_real.shape[0], -1).sum(1).mean()
    (GAMMA / 2 * penalty).backward()
    w = FixtureWriter()
    w.add("x", x)
    w.add("grad_real", grad_real)
    w.add("penalty", penalty.reshape(1))
    add_param_grads(w, d)
    w.write(FIX, "r1_penalty", {"gamma": GAMMA})


def path_length(cfg):
    fx = read_fixture("generator")
    g = Generator(cfg["generator"])
    load_weights(g, fx)
    torch.manual_seed(11)
    z = torch.randn(2, g.style_dim)
    wz = g.mapping(z)
    latents = wz[:, None, :].repeat(1, g.n_latent, 1)
    img, _ = g(latents, None)
    noise = torch.randn(img.shape) / (img.shape[2] * img.shape[3]) ** 0.5
    grad, = torch.autograd.grad((img * noise).sum(), latents, create_graph=True)
    path_lengths = torch.sqrt(grad.pow(2).sum(2).mean(1))
    path_mean = MEAN_PATH_LENGTH + 0.01 * (path_lengths.mean() - MEAN_PATH_LENGTH)
    penalty = (path_lengths - path_mean).pow(2).mean()
    penalty.backward()
    w = FixtureWriter()
    w.add("z", z)
    w.add("noise", noise)
    w.add("grad_latents", grad)
    w.add("path_lengths", path_lengths)
    w.add("penalty", penalty.reshape(1))
    add_param_grads(w, g)
    w.write(FIX, "path_length", {"mean_path_length": MEAN_PATH_LENGTH})


if __name__ == "__main__":
    asit = load_model_config(os.path.join(ROOT, "configs", "micro", "asit.yaml"))
    r1(asit)
    path_length(asit)
