"""Reading and writing IFER-Swift checkpoints (DESIGN.md section 8) from Python with h5py.

Layout: root attributes format="ifer-checkpoint", format_version=1, stage, step, epoch,
world_size, config, architecture, created_at; groups /params, /buffers, /optimizer, /ranks;
one float32 dataset per tensor named by its dotted PyTorch key, each with a "sha256" attribute
(hex SHA-256 of its little-endian bytes); beside the file "<name>.sha256" in sha256sum format.
"""
import datetime
import hashlib
import os

import h5py
import numpy as np

FORMAT, VERSION = "ifer-checkpoint", 1


def _sha(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def write_checkpoint(path, params, buffers, stage, config="", architecture=""):
    """params/buffers: dict key -> numpy-convertible float array. Writes atomically + sidecar."""
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for k, v in [("format", FORMAT), ("stage", stage), ("config", config), ("architecture", architecture),
                     ("created_at", datetime.datetime.now(datetime.timezone.utc).isoformat())]:
            f.attrs[k] = v
        for k, v in [("format_version", VERSION), ("step", 0), ("epoch", 0), ("world_size", 1)]:
            f.attrs[k] = np.int64(v)
        for g in ["params", "buffers", "optimizer", "ranks"]:
            f.create_group(g)
        for group, tensors in [("params", params), ("buffers", buffers)]:
            for k, v in tensors.items():
                a = np.asarray(v, dtype="<f4")
                ds = f[group].create_dataset(k, data=a)
                ds.attrs["sha256"] = _sha(a)
    digest = hashlib.sha256(open(tmp, "rb").read()).hexdigest()
    with open(path + ".sha256", "w") as s:
        s.write(f"{digest}  {os.path.basename(path)}\n")
    os.replace(tmp, path)
    return path


def read_checkpoint(path):
    """Verifies the sidecar and every dataset checksum; returns (attrs, params, buffers)."""
    side = path + ".sha256"
    if not os.path.exists(side):
        raise ValueError(f"{path}: missing checksum file {side}")
    want = open(side).read().split()[0]
    have = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if want != have:
        raise ValueError(f"{path}: file SHA-256 {have} does not match {side}")
    with h5py.File(path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        if attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not an ifer checkpoint (format={attrs.get('format')!r})")
        if int(attrs.get("format_version", 0)) > VERSION:
            raise ValueError(f"{path}: format_version {attrs['format_version']} is newer than this converter ({VERSION})")
        out = []
        for group in ["params", "buffers"]:
            d = {}
            for k, ds in f[group].items():
                a = ds[()]
                if ds.attrs.get("sha256") != _sha(a):
                    raise ValueError(f"{path}: /{group}/{k}: dataset checksum mismatch")
                d[k] = a
            out.append(d)
    return attrs, out[0], out[1]
