"""Golden forward outputs and gradients of the micro models for the Swift tests.

For each model: the reference's (perturbed) random weights by state_dict name, the inputs, a
random seed tensor, the forward output, and the gradients of L = sum(output * seed) w.r.t. the
inputs and every parameter. Written as <name>.json (index) + <name>.bin (float32) under
Tests/IFERModelsTests/Fixtures/ so the Swift tests need no torch.

Run: .venv-golden/bin/python scripts/reference/make_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import FixtureWriter, load_model_config  # noqa: E402
from discriminator import Discriminator, StyleGANDiscriminator  # noqa: E402
from generator import Generator  # noqa: E402
from ifer_head import IferHead  # noqa: E402
from irse50 import IRSE50  # noqa: E402
from lpips import LPIPS  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "Tests", "IFERModelsTests", "Fixtures")


def perturb(module, std=0.3):
    """Zero-initialised biases and noise weights would hide bugs: add noise to every parameter."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape) * std)


def finish(w, module, out, inputs, name, meta=None):
    seed = torch.randn(out.shape)
    (out * seed).sum().backward()
    w.add("seed", seed)
    w.add("output", out)
    for n, t in inputs.items():
        if t.grad is not None:
            w.add("grad." + n, t.grad)
    for n, p in module.named_parameters():
        if p.grad is not None:
            w.add("grad." + n, p.grad)
    w.write(OUT, name, meta)


def generator_fixtures(cfg):
    torch.manual_seed(1)
    g = Generator(cfg["generator"])
    perturb(g)
    w = FixtureWriter()
    w.add_module("", g)
    b = 2
    latents = torch.randn(b, g.n_latent, g.style_dim, requires_grad=True)
    structure = torch.randn(b, g.input.input.shape[1], 4, 4, requires_grad=True)
    w.add("latents", latents)
    w.add("structure", structure)
    img, feats = g(latents, structure)
    for r, f in feats.items():
        w.add(f"features.{r}", f)
    finish(w, g, img, {"latents": latents, "structure": structure}, "generator")

    # The same weights through the rosinality converter: an IFER checkpoint the Swift side loads.
    sys.path.insert(0, os.path.join(ROOT, "scripts", "convert"))
    import tempfile
    import to_ifer
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "g.pt")
        torch.save({"g_ema": g.state_dict()}, src)
        to_ifer.convert("rosinality", src, os.path.join(OUT, "generator_micro.h5"),
                        os.path.join(ROOT, "configs", "micro", "asit.yaml"), latent_samples=1000)

    # Mapping network and the constant-input path (no structure code); same weights as above.
    g.zero_grad()
    w = FixtureWriter()
    z = torch.randn(3, g.style_dim, requires_grad=True)
    w.add("z", z)
    wz = g.mapping(z)
    lat = wz[:, None, :].repeat(1, g.n_latent, 1)
    img, _ = g(lat, None)
    w.add("w", wz)
    finish(w, g, img, {"z": z}, "generator_sample")


def discriminator_fixtures(cfg):
    torch.manual_seed(2)
    d = Discriminator(cfg["discriminator"])
    perturb(d.model_q)
    with torch.no_grad():  # k differs from q so that loading by name is really checked
        for pk, pq in zip(d.model_k.parameters(), d.model_q.parameters()):
            pk.copy_(pq + torch.randn(pq.shape) * 0.05)
    w = FixtureWriter()
    w.add_module("", d)
    s = cfg["discriminator"].get("size", 32)
    a = torch.randn(2, 3, s, s, requires_grad=True)
    bb = torch.randn(2, 3, s, s, requires_grad=True)
    w.add("a", a)
    w.add("b", bb)
    w.add("q_embedding", d.model_q(a).detach())
    out = d(a, bb)
    finish(w, d, out, {"a": a, "b": bb}, "discriminator")

    # The generator stage's GAN discriminator (minibatch stddev over groups of 4; batch 8).
    torch.manual_seed(6)
    gd = StyleGANDiscriminator(cfg["discriminator"])
    perturb(gd)
    w = FixtureWriter()
    w.add_module("", gd)
    x = torch.randn(8, 3, s, s, requires_grad=True)
    w.add("x", x)
    finish(w, gd, gd(x), {"x": x}, "stylegan_discriminator")


def ifer_head_fixtures(cfg):
    torch.manual_seed(3)
    h = IferHead(cfg["ifer_head"])
    perturb(h)
    w = FixtureWriter()
    w.add_module("", h)
    c = cfg["ifer_head"]
    codes = torch.randn(2, 8, c.get("style_dim", 32), requires_grad=True)
    structure = torch.randn(2, c.get("channels", 32), 4, 4, requires_grad=True)
    w.add("codes", codes)
    w.add("structure", structure)
    finish(w, h, h(codes, structure), {"codes": codes, "structure": structure}, "ifer_head")


def perceptual_fixtures():
    """Narrow LPIPS and IR-SE50 (same layer structure and names as the real ones)."""
    torch.manual_seed(4)
    lp = LPIPS(widths=(8, 12, 16, 12, 12))
    perturb(lp, std=0.05)
    w = FixtureWriter()
    w.add_module("", lp)
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    y = torch.randn(2, 3, 64, 64)
    w.add("x", x)
    w.add("y", y)
    finish(w, lp, lp(x, y), {"x": x}, "lpips")

    torch.manual_seed(5)
    net = IRSE50(input_size=32, units=(1, 2, 1, 1), widths=(8, 16, 16, 32), embedding=16).eval()
    perturb(net, std=0.1)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
                m.running_mean.copy_(torch.randn(m.running_mean.shape) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape) + 0.5)
    w = FixtureWriter()
    w.add_module("", net)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    w.add("x", x)
    finish(w, net, net(x), {"x": x}, "irse50")


if __name__ == "__main__":
    asit = load_model_config(os.path.join(ROOT, "configs", "micro", "asit.yaml"))
    ifer = load_model_config(os.path.join(ROOT, "configs", "micro", "ifer.yaml"))
    generator_fixtures(asit)
    discriminator_fixtures(asit)
    ifer_head_fixtures(ifer)
    perceptual_fixtures()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
