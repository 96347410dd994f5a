#!/usr/bin/env python3
"""Pillow goldens for the RandAugment ops (Sources/IFERData/Loader/RandAugment.swift).

timm 0.5.4's RandAugment ops are Pillow calls (auto_augment.py); this script runs each of them
with fixed arguments on one small RGB image and writes the results, so the Swift ops can be
compared with Pillow byte by byte (pixel ops) or within a tolerance (geometric ops, whose
resampling rounds differently).

Fixture: Tests/IFERDataTests/Fixtures/randaugment_pillow.json
  {"side": S, "fill": [r, g, b], "input": "hex",
   "cases": [{"op": "Rotate", "argument": 27.0, "interpolation": "bilinear", "output": "hex"}, ...]}
Op names and arguments are timm's (the argument is what the level function returns).

Usage: .venv-golden/bin/python scripts/golden/randaugment_pillow.py [OUT_JSON]   (needs Pillow, numpy)
"""
import json
import math
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageEnhance, ImageOps

SIDE = 16
FILL = (124, 116, 104)


def test_image():
    """A smooth face-like blob plus stripes and noise: every op changes something."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    r = np.sqrt((x - SIDE / 2) ** 2 + (y - SIDE / 2) ** 2)
    base = np.stack([200 - 5 * r, 120 + 3 * np.sin(x), 60 + 4 * y], axis=-1)
    base[::4] += 40
    base += rng.normal(0, 12, base.shape)
    return Image.fromarray(np.clip(base, 20, 235).astype(np.uint8), "RGB")


def affine(img, matrix, interpolation):
    resample = Image.BILINEAR if interpolation == "bilinear" else Image.BICUBIC
    return img.transform(img.size, Image.AFFINE, matrix, resample=resample, fillcolor=FILL)


def run(op, img, arg, interpolation):
    """timm auto_augment.py's op functions, with timm's argument order."""
    if op == "AutoContrast":
        return ImageOps.autocontrast(img)
    if op == "Equalize":
        return ImageOps.equalize(img)
    if op == "Invert":
        return ImageOps.invert(img)
    if op == "Posterize":
        if arg >= 8:
            return img
        if arg < 1:  # Pillow >= 10 refuses 0 bits; the Pillow timm 0.5.4 ran with made it all black
            return img.point([0] * 768)
        return ImageOps.posterize(img, int(arg))
    if op == "Solarize":
        return ImageOps.solarize(img, int(arg))
    if op == "SolarizeAdd":
        lut = [min(255, i + int(arg)) if i < 128 else i for i in range(256)]
        return img.point(lut * 3)
    if op == "Color":
        return ImageEnhance.Color(img).enhance(arg)
    if op == "Contrast":
        return ImageEnhance.Contrast(img).enhance(arg)
    if op == "Brightness":
        return ImageEnhance.Brightness(img).enhance(arg)
    if op == "Sharpness":
        return ImageEnhance.Sharpness(img).enhance(arg)
    resample = Image.BILINEAR if interpolation == "bilinear" else Image.BICUBIC
    if op == "Rotate":
        return img.rotate(arg, resample=resample, fillcolor=FILL)
    if op == "ShearX":
        return affine(img, (1, arg, 0, 0, 1, 0), interpolation)
    if op == "ShearY":
        return affine(img, (1, 0, 0, arg, 1, 0), interpolation)
    if op == "TranslateXRel":
        return affine(img, (1, 0, arg * img.size[0], 0, 1, 0), interpolation)
    if op == "TranslateYRel":
        return affine(img, (1, 0, 0, 0, 1, arg * img.size[1]), interpolation)
    raise ValueError(op)


# (op, arguments): timm's level functions at magnitudes 0-10 span these.
CASES = [
    ("AutoContrast", [0]), ("Equalize", [0]), ("Invert", [0]),
    ("Posterize", [4, 2, 1, 0]), ("Solarize", [256, 128, 26]), ("SolarizeAdd", [0, 50, 110]),
    ("Color", [0.1, 0.55, 1.0, 1.81]), ("Contrast", [0.1, 0.55, 1.81]),
    ("Brightness", [0.1, 0.55, 1.81]), ("Sharpness", [0.1, 0.55, 1.81]),
    ("Rotate", [27.0, -13.5]), ("ShearX", [0.27, -0.15]), ("ShearY", [0.27]),
    ("TranslateXRel", [0.405, -0.2]), ("TranslateYRel", [0.3]),
]
GEOMETRIC = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "Tests", "IFERDataTests", "Fixtures", "randaugment_pillow.json")
    img = test_image()
    cases = []
    for op, args in CASES:
        for arg in args:
            for interpolation in (["bilinear", "bicubic"] if op in GEOMETRIC else ["bilinear"]):
                result = run(op, img, float(arg), interpolation)
                cases.append({"op": op, "argument": float(arg), "interpolation": interpolation,
                              "output": result.tobytes().hex()})
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"pillow": PIL.__version__,
                   "side": SIDE, "fill": list(FILL), "input": img.tobytes().hex(), "cases": cases},
                  f, separators=(",", ":"))
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
