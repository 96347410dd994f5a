#!/usr/bin/env python3
"""Writes small PNG fixtures for Tests/IFERIOTests with only zlib + struct (no Pillow), plus the
RGB8 bytes libpng's simplified reader should produce for each (<name>.rgb, raw, row-major).

Covers what a face dataset may throw at the decoder: palette (4-bit), grey 8-bit, grey 2-bit,
grey+alpha (alpha 0 or 255, dropped), RGB 16-bit (with an sRGB chunk; the decoder ignores colour
chunks and scales 16 -> 8 bits without gamma either way) and Adam7-interlaced RGB.

Then, with Pillow (.venv-golden), the Pillow matrix in OUT_DIR/pillow/: every PNG colour type at
every bit depth it allows, plain and Adam7-interlaced, some with tRNS, a gAMA chunk (2.2 or 1.0)
and a large tEXt chunk, each with <name>.rgb = what Pillow gives (Image.open(p).convert("RGB");
for 16-bit grey, which Pillow opens as "I;16" and clamps on convert, the high byte instead, the
rule the decoder follows). The test compares within 1 level.

Usage: python3 scripts/golden/png_fixtures.py [OUT_DIR]   (default Tests/IFERIOTests/Fixtures)
"""
import os
import struct
import sys
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """Packs one scanline's samples (ints) at bit_depth into bytes (filter byte not included)."""
    if bit_depth == 8:
        return bytes(samples)
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    per = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per):
        b = 0
        group = samples[i:i + per]
        for j, s in enumerate(group):
            b |= s << (8 - bit_depth * (j + 1))
        out.append(b)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png(width, height, color_type, bit_depth, rows, palette=None, interlace=False, srgb=False, extra=b""):
    """rows[y][x] is a tuple of channel samples for that pixel."""
    raw = bytearray()
    if not interlace:
        passes = [(0, 0, 1, 1)]
    else:
        passes = ADAM7
    for (x0, y0, dx, dy) in passes:
        xs = list(range(x0, width, dx))
        ys = list(range(y0, height, dy))
        if not xs or not ys:
            continue
        for y in ys:
            samples = [s for x in xs for s in rows[y][x]]
            raw.append(0)  # filter type None
            raw += pack_row(samples, bit_depth)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0))
    if srgb:
        out += chunk(b"sRGB", bytes([0]))
    out += extra
    if palette is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    out += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    out += chunk(b"IEND", b"")
    return out


def write(out_dir, name, data, rgb):
    with open(os.path.join(out_dir, name + ".png"), "wb") as f:
        f.write(data)
    with open(os.path.join(out_dir, name + ".rgb"), "wb") as f:
        f.write(bytes(rgb))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/IFERIOTests/Fixtures"
    os.makedirs(out_dir, exist_ok=True)

    # Palette, 4-bit indices, 16 colours, 8x6.
    w, h = 8, 6
    pal = [((i * 37) % 256, (i * 91 + 13) % 256, (255 - i * 16) % 256) for i in range(16)]
    idx = [[(x + 3 * y) % 16 for x in range(w)] for y in range(h)]
    write(out_dir, "palette4", png(w, h, 3, 4, [[(i,) for i in row] for row in idx], palette=pal),
          [c for row in idx for i in row for c in pal[i]])

    # Grey 8-bit, 7x5.
    w, h = 7, 5
    g = [[(x * 40 + y * 7) % 256 for x in range(w)] for y in range(h)]
    write(out_dir, "grey8", png(w, h, 0, 8, [[(v,) for v in row] for row in g]),
          [v for row in g for v in row for _ in range(3)])

    # Grey 2-bit (values 0..3 scale to 0, 85, 170, 255), 9x3 (odd width exercises packing).
    w, h = 9, 3
    g = [[(x + y) % 4 for x in range(w)] for y in range(h)]
    write(out_dir, "grey2", png(w, h, 0, 2, [[(v,) for v in row] for row in g]),
          [v * 85 for row in g for v in row for _ in range(3)])

    # Grey + alpha 8-bit, 6x4; alpha 0 or 255, dropped (Pillow's convert("RGB") keeps the grey value).
    w, h = 6, 4
    ga = [[((x * 50 + y * 20) % 256, 0 if (x + y) % 3 == 0 else 255) for x in range(w)] for y in range(h)]
    write(out_dir, "greyalpha", png(w, h, 4, 8, ga),
          [v for row in ga for (v, a) in row for _ in range(3)])

    # RGB 16-bit, 5x5: each sample is v * 257, which scales back to exactly v.
    w, h = 5, 5
    px = [[((x * 60) % 256, (y * 60) % 256, (x * y * 10) % 256) for x in range(w)] for y in range(h)]
    write(out_dir, "rgb16", png(w, h, 2, 16, [[tuple(c * 257 for c in p) for p in row] for row in px], srgb=True),
          [c for row in px for p in row for c in p])

    # RGB 8-bit Adam7-interlaced, 9x7 (every pass non-empty).
    w, h = 9, 7
    px = [[((x * 29 + y) % 256, (y * 31 + x * 3) % 256, (x * y * 5 + 7) % 256) for x in range(w)] for y in range(h)]
    write(out_dir, "interlaced", png(w, h, 2, 8, px, interlace=True),
          [c for row in px for p in row for c in p])
    pillow_matrix(os.path.join(out_dir, "pillow"))


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
DEPTHS = {0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]}


def pillow_matrix(out_dir):
    try:
        import numpy as np
        from PIL import Image
    except ImportError:
        print("png_fixtures: Pillow not installed, skipping the Pillow matrix")
        return
    os.makedirs(out_dir, exist_ok=True)
    w, h = 11, 7  # odd sizes: partial bytes at low depths, every Adam7 pass non-empty
    for ct, depths in DEPTHS.items():
        for depth in depths:
            for interlace in (False, True):
                top = (1 << depth) - 1
                ch = CHANNELS[ct]
                rows = [[tuple(((x * 97 + y * 57 + c * 131) * (top // 10 + 1) + c * 7) % (top + 1) for c in range(ch))
                         for x in range(w)] for y in range(h)]
                if ct in (4, 6):  # alpha: some transparent, some half, some opaque
                    rows = [[p[:-1] + ((0, top // 2, top)[(x + y) % 3],) for x, p in enumerate(row)] for y, row in enumerate(rows)]
                palette = None
                extra = b""
                if ct == 3:
                    palette = [((i * 37) % 256, (i * 91 + 13) % 256, (255 - i * 5) % 256) for i in range(top + 1)]
                    extra += chunk(b"tRNS", bytes([0, 128]))  # entries 0 and 1 transparent-ish
                if ct == 0 and depth == 8:
                    extra += chunk(b"tRNS", struct.pack(">H", rows[0][0][0]))
                if ct == 2 and depth == 16:
                    extra += chunk(b"tRNS", struct.pack(">HHH", *rows[0][0]))
                if depth == 8 and ct in (2, 6):
                    extra += chunk(b"gAMA", struct.pack(">I", 100000))  # gamma 1.0: must be ignored
                if depth == 16 and ct == 6:
                    extra += chunk(b"gAMA", struct.pack(">I", 45455))
                if ct == 2 and depth == 8:
                    extra += chunk(b"tEXt", b"Comment\0" + b"x" * 20000)  # ancillary chunk, dropped
                name = f"ct{ct}-d{depth}{'-i' if interlace else ''}"
                data = png(w, h, ct, depth, rows, palette=palette, interlace=interlace, extra=extra)
                path = os.path.join(out_dir, name + ".png")
                with open(path, "wb") as f:
                    f.write(data)
                im = Image.open(path)
                if im.mode in ("I;16", "I;16B", "I"):
                    a = (np.array(im).astype(np.uint32) >> 8).astype(np.uint8)
                    rgb = np.stack([a, a, a], axis=-1)
                else:
                    rgb = np.array(im.convert("RGB"))
                assert rgb.shape == (h, w, 3), (name, rgb.shape)
                with open(os.path.join(out_dir, name + ".rgb"), "wb") as f:
                    f.write(rgb.tobytes())


if __name__ == "__main__":
    main()
