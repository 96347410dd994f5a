#!/usr/bin/env python3
"""Writes the JPEG fixtures for Tests/IFERIOTests (needs Pillow; run once, the files are committed).

cmyk.jpg: 16x16, four solid 8x8 quadrants (one JPEG block each, so compression is nearly exact):
  top-left  C=0   M=0   Y=0   K=0   -> white   (255, 255, 255)
  top-right C=255 M=0   Y=0   K=0   -> cyan    (0, 255, 255)
  bot-left  C=0   M=255 Y=255 K=0   -> red     (255, 0, 0)
  bot-right C=0   M=0   Y=0   K=128 -> grey    (127, 127, 127)
Pillow writes an Adobe APP14 marker and stores the ink values inverted, as Photoshop does;
the decoder must undo that.

pillow/<variant>.jpg + <variant>.rgb: a 37x23 picture (gradients and edges; sizes not multiples
of any MCU) saved by Pillow as baseline 4:4:4, 4:2:2 and 4:2:0, progressive 4:2:0, greyscale,
greyscale progressive, CMYK (Adobe, inverted), and a 4:2:0 file with EXIF orientation 6; each
.rgb is Pillow's Image.open(p).convert("RGB") (EXIF orientation not applied, as torchvision's
decode_jpeg default). The test compares within 1 level.

Usage: .venv-golden/bin/python scripts/golden/jpeg_fixtures.py [OUT_DIR]
"""
import os
import sys

import numpy as np
from PIL import Image


def picture(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // (w - 1))
    g = (y * 255 // (h - 1))
    b = np.where((x // 6 + y // 5) % 2 == 0, 40, 215)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/IFERIOTests/Fixtures"
    img = Image.new("CMYK", (16, 16))
    quads = [((0, 0), (0, 0, 0, 0)), ((8, 0), (255, 0, 0, 0)), ((0, 8), (0, 255, 255, 0)), ((8, 8), (0, 0, 0, 128))]
    for (x0, y0), c in quads:
        for y in range(y0, y0 + 8):
            for x in range(x0, x0 + 8):
                img.putpixel((x, y), c)
    img.save(os.path.join(out_dir, "cmyk.jpg"), quality=100, subsampling=0)

    pdir = os.path.join(out_dir, "pillow")
    os.makedirs(pdir, exist_ok=True)
    rgb = Image.fromarray(picture(37, 23), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    variants = {
        "baseline-444": (rgb, dict(quality=90, subsampling=0)),
        "baseline-422": (rgb, dict(quality=90, subsampling=1)),
        "baseline-420": (rgb, dict(quality=90, subsampling=2)),
        "progressive-420": (rgb, dict(quality=85, subsampling=2, progressive=True)),
        "grey": (rgb.convert("L"), dict(quality=90)),
        "grey-progressive": (rgb.convert("L"), dict(quality=90, progressive=True)),
        "cmyk": (rgb.convert("CMYK"), dict(quality=95, subsampling=0)),
        "exif-orientation6": (rgb, dict(quality=90, subsampling=2, exif=exif.tobytes())),
    }
    for name, (im, kw) in variants.items():
        path = os.path.join(pdir, name + ".jpg")
        im.save(path, **kw)
        out = np.array(Image.open(path).convert("RGB"))
        with open(os.path.join(pdir, name + ".rgb"), "wb") as f:
            f.write(out.tobytes())


if __name__ == "__main__":
    main()
