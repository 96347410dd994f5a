"""Round trip of every converter on randomly initialised micro models:
torch checkpoint -> to_ifer.py -> IFER HDF5 (checked: attributes, checksums, key layout)
-> from_ifer.py -> torch checkpoint, which must equal the original tensor for tensor and load
strictly into the reference module. Run with the golden venv:
    .venv-golden/bin/python scripts/convert/test_roundtrip.py
"""
import os
import sys
import tempfile

import h5py
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "reference"))
import from_ifer  # noqa: E402
import to_ifer  # noqa: E402
from ckpt_io import read_checkpoint  # noqa: E402
from common import load_model_config  # noqa: E402
from generator import Generator  # noqa: E402
from irse50 import IRSE50  # noqa: E402
from lpips import LPIPS  # noqa: E402

MICRO = os.path.join(ROOT, "configs", "micro", "asit.yaml")


def same(a, b, what):
    ka = {k for k in a if not k.endswith(to_ifer.DROP_SUFFIXES)}
    kb = {k for k in b if not k.endswith(to_ifer.DROP_SUFFIXES)}
    assert ka == kb, f"{what}: keys differ: {sorted(ka ^ kb)[:8]}"
    for k in ka:
        assert torch.equal(a[k].float(), b[k].float()), f"{what}: {k} differs"


def test_rosinality(tmp):
    torch.manual_seed(0)
    g = Generator(load_model_config(MICRO)["generator"])
    src = os.path.join(tmp, "g.pt")
    torch.save({"g_ema": g.state_dict(), "args": None}, src)
    h5 = to_ifer.convert("rosinality", src, os.path.join(tmp, "g.h5"), MICRO, latent_samples=5000)
    attrs, params, buffers = read_checkpoint(h5)
    assert attrs["format"] == "ifer-checkpoint" and attrs["format_version"] == 1 and attrs["stage"] == "generator"
    assert "decoder.style.1.weight" in params and "decoder.noises.noise_0" in buffers
    assert "decoder.convs.0.conv.blur.kernel" in buffers and "decoder.to_rgbs.0.upsample.kernel" in buffers
    assert buffers["latent_avg"].shape == (32,)
    with torch.no_grad():
        want = g.style(torch.randn(20000, 32)).mean(0)
    assert torch.allclose(torch.from_numpy(buffers["latent_avg"]), want, atol=0.05 * want.abs().max().item() + 1e-3), "latent_avg"
    back = from_ifer.convert(h5, os.path.join(tmp, "g_back.pt"), "rosinality")
    ck = torch.load(back, weights_only=False)
    same(g.state_dict(), ck["g_ema"], "rosinality")
    Generator(load_model_config(MICRO)["generator"]).load_state_dict(ck["g_ema"], strict=True)
    # A wrong config is refused, naming the mismatch.
    bad = os.path.join(ROOT, "configs", "tiny", "asit.yaml")
    try:
        to_ifer.convert("rosinality", src, os.path.join(tmp, "bad.h5"), bad)
        raise AssertionError("a tiny config accepted micro weights")
    except SystemExit as e:
        assert "do not match" in str(e)


def test_asit_and_ifer(tmp):
    torch.manual_seed(1)
    g = Generator(load_model_config(MICRO)["generator"])
    sd = {"decoder." + k: v for k, v in g.state_dict().items()}
    sd["encoder.levels.0.blocks.0.attn.qkv.weight"] = torch.randn(48, 16)
    sd["encoder.levels.0.blocks.0.attn.relative_position_index"] = torch.arange(16).reshape(4, 4)
    src = os.path.join(tmp, "asit.pt")
    torch.save({"state_dict": sd, "opts": {}, "latent_avg": torch.randn(32)}, src)
    h5 = to_ifer.convert("asit", src, os.path.join(tmp, "asit.h5"))
    attrs, params, buffers = read_checkpoint(h5)
    assert attrs["stage"] == "asit" and "encoder.levels.0.blocks.0.attn.qkv.weight" in params
    assert "decoder.noises.noise_3" in buffers and "decoder.noises.noise_3" not in params
    back = torch.load(from_ifer.convert(h5, os.path.join(tmp, "asit_back.pt"), "asit"), weights_only=False)
    same(sd, back["state_dict"], "asit")

    # With --config every encoder.* and decoder.* tensor is checked against it.
    from encoder import GCViT
    full = {"decoder." + k: v for k, v in g.state_dict().items()}
    full.update({"encoder." + k: v for k, v in GCViT(to_ifer.encoder_config(load_model_config(MICRO))).state_dict().items()})
    torch.save({"state_dict": full, "latent_avg": torch.randn(32)}, src)
    assert read_checkpoint(to_ifer.convert("asit", src, os.path.join(tmp, "asit_ok.h5"), MICRO))[0]["stage"] == "asit"
    try:
        to_ifer.convert("asit", src, os.path.join(tmp, "asit_bad.h5"), os.path.join(ROOT, "configs", "tiny", "asit.yaml"))
        raise AssertionError("an asit checkpoint was accepted against another config")
    except SystemExit as e:
        assert "do not match" in str(e) and "model.encoder" in str(e), str(e)

    # A whole micro classifier in the authors' layout (feature_model.* + head keys): names kept.
    from make_authors_ifer import IferModel
    ifer_cfg = os.path.join(ROOT, "configs", "micro", "ifer.yaml")
    head = IferModel(load_model_config(ifer_cfg)).state_dict()
    src = os.path.join(tmp, "ifer.pt")
    torch.save({"state_dict": {"module." + k: v for k, v in head.items()}, "epoch": 3}, src)
    h5 = to_ifer.convert("ifer", src, os.path.join(tmp, "ifer.h5"), ifer_cfg)
    params = read_checkpoint(h5)[1]
    assert "feature_model.patch_embed.proj.weight" in params and "head.weight" in params
    assert not any(k.startswith(("encoder.", "module.")) for k in params)
    back = torch.load(from_ifer.convert(h5, os.path.join(tmp, "ifer_back.pt"), "ifer"), weights_only=False)
    same(head, back["state_dict"], "ifer")
    for bad_cfg in [None, MICRO]:   # no config; a config without this head (512 channels)
        try:
            to_ifer.convert("ifer", src, os.path.join(tmp, "ifer_bad.h5"), bad_cfg)
            raise AssertionError(f"ifer conversion with config {bad_cfg} was accepted")
        except SystemExit as e:
            assert "--config" in str(e) or "do not match" in str(e), str(e)


def test_perceptual(tmp):
    torch.manual_seed(2)
    lp = LPIPS()
    alex = {"features." + k[len("net.layers."):]: v for k, v in lp.state_dict().items() if k.startswith("net.layers.")}
    alex["classifier.1.weight"] = torch.randn(4, 4)  # torchvision's classifier is ignored
    lin = {f"lin{i}.model.1.weight": lp.lin[i][1].weight.detach().clone() for i in range(5)}
    torch.save(alex, os.path.join(tmp, "alexnet.pth"))
    torch.save(lin, os.path.join(tmp, "alex.pth"))
    h5 = to_ifer.convert("lpips", os.path.join(tmp, "alexnet.pth"), os.path.join(tmp, "lpips.h5"), lin=os.path.join(tmp, "alex.pth"))
    attrs, params, buffers = read_checkpoint(h5)
    fresh = LPIPS()
    fresh.load_state_dict({**{k: torch.from_numpy(v) for k, v in {**params, **buffers}.items()}}, strict=True)
    same(lp.state_dict(), fresh.state_dict(), "lpips")
    out = from_ifer.convert(h5, os.path.join(tmp, "alex_back.pth"), "lpips")
    alex.pop("classifier.1.weight")
    same(alex, torch.load(out), "lpips features")
    same(lin, torch.load(out + ".lin.pth"), "lpips lin")

    net = IRSE50(input_size=32, units=(1, 2, 1, 1), widths=(8, 16, 16, 32), embedding=16)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2)
    torch.save(net.state_dict(), os.path.join(tmp, "ir.pth"))
    h5 = to_ifer.convert("irse50", os.path.join(tmp, "ir.pth"), os.path.join(tmp, "ir.h5"))
    attrs, params, buffers = read_checkpoint(h5)
    assert "input_layer.1.running_var" in buffers and "input_layer.1.weight" in params
    back = torch.load(from_ifer.convert(h5, os.path.join(tmp, "ir_back.pt"), "plain"), weights_only=False)
    net2 = IRSE50(input_size=32, units=(1, 2, 1, 1), widths=(8, 16, 16, 32), embedding=16)
    net2.load_state_dict(back, strict=True)
    same(net.state_dict(), net2.state_dict(), "irse50")


def test_corruption_is_refused(tmp):
    torch.manual_seed(3)
    g = Generator(load_model_config(MICRO)["generator"])
    src = os.path.join(tmp, "g2.pt")
    torch.save({"g_ema": g.state_dict()}, src)
    h5 = to_ifer.convert("rosinality", src, os.path.join(tmp, "g2.h5"), latent_samples=0)
    with h5py.File(h5, "r+") as f:
        f["params"]["decoder.style.1.bias"][0] += 1
    try:
        read_checkpoint(h5)
        raise AssertionError("a modified file was accepted")
    except ValueError as e:
        assert "SHA-256" in str(e)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for t in [test_rosinality, test_asit_and_ifer, test_perceptual, test_corruption_is_refused]:
            t(tmp)
            print("ok", t.__name__)
