#!/usr/bin/env python3
"""The baseline for `ifer bench shard`: the same job as `ifer shard --dataset folder`, done by one
Python process with Pillow and h5py.

For every PNG/JPEG under --root (sorted): decode to RGB, take the centred square of the shorter
side, resize it to --resolution with Pillow's anti-aliased BILINEAR filter (the filter ifer uses),
and store it in one HDF5 file: /images uint8 [N, R, R, 3] chunked one image per chunk, /labels
int16 (-1), /source strings, plus the shard attributes. Prints one JSON line with images/s.

    python3 scripts/bench/shard_pillow.py --root SRC --out DIR --resolution 256
"""
import argparse
import json
import os
import time

import h5py
import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--resolution", type=int, default=256)
    a = ap.parse_args()
    r = a.resolution
    files = []
    for d, _, names in os.walk(a.root):
        for n in names:
            if n.lower().endswith((".png", ".jpg", ".jpeg")) and not n.startswith("."):
                files.append(os.path.relpath(os.path.join(d, n), a.root))
    files.sort()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    c0 = time.process_time()
    path = os.path.join(a.out, "folder-train-00000.h5")
    with h5py.File(path, "w") as f:
        images = f.create_dataset("images", shape=(0, r, r, 3), maxshape=(None, r, r, 3), dtype="uint8", chunks=(1, r, r, 3))
        sources = []
        for rel in files:
            try:
                im = Image.open(os.path.join(a.root, rel)).convert("RGB")
            except Exception:
                continue
            w, h = im.size
            side = min(w, h)
            if side < r:
                continue
            x0, y0 = (w - side) // 2, (h - side) // 2
            im = im.resize((r, r), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
            n = len(sources)
            images.resize(n + 1, axis=0)
            images[n] = np.asarray(im, dtype=np.uint8)
            sources.append(rel)
        f.create_dataset("labels", data=np.full(len(sources), -1, dtype=np.int16))
        f.create_dataset("source", data=sources, dtype=h5py.string_dtype())
        f.attrs["format"] = "ifer-shard"
        f.attrs["format_version"] = 1
        f.attrs["dataset"] = "folder"
        f.attrs["split"] = "train"
        f.attrs["resolution"] = r
        f.attrs["class_names"] = h5py.Empty("S1")
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0  # user + system CPU of this process: undistorted by other load
    print(json.dumps({"tool": "pillow+h5py", "images": len(sources), "seconds": dt, "images_per_s": len(sources) / dt,
                      "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
