#!/usr/bin/env python3
"""Writes the CMYK JPEG fixture for Tests/IFERIOTests (needs Pillow; run once, the file is committed).

cmyk.jpg: 16x16, four solid 8x8 quadrants (one JPEG block each, so compression is nearly exact):
  top-left  C=0   M=0   Y=0   K=0   -> white   (255, 255, 255)
  top-right C=255 M=0   Y=0   K=0   -> cyan    (0, 255, 255)
  bot-left  C=0   M=255 Y=255 K=0   -> red     (255, 0, 0)
  bot-right C=0   M=0   Y=0   K=128 -> grey    (127, 127, 127)
Pillow writes an Adobe APP14 marker and stores the ink values inverted, as Photoshop does;
the decoder must undo that.

Usage: .venv-golden/bin/python scripts/golden/jpeg_fixtures.py [OUT_DIR]
"""
import os
import sys

from PIL import Image


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/IFERIOTests/Fixtures"
    img = Image.new("CMYK", (16, 16))
    quads = [((0, 0), (0, 0, 0, 0)), ((8, 0), (255, 0, 0, 0)), ((0, 8), (0, 255, 255, 0)), ((8, 8), (0, 0, 0, 128))]
    for (x0, y0), c in quads:
        for y in range(y0, y0 + 8):
            for x in range(x0, x0 + 8):
                img.putpixel((x, y), c)
    img.save(os.path.join(out_dir, "cmyk.jpg"), quality=100, subsampling=0)


if __name__ == "__main__":
    main()
