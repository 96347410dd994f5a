#!/usr/bin/env python3
"""Predicted data-parallel step time and efficiency of the paper configs on clusters.

The model (docs/scaling.md explains it):

    compute   t_c(b)  = b * s_img                 (s_img: measured seconds per image per rank)
    ring      t_ar    = n_buckets * 2(n-1) * alpha + 2(n-1)/n * G / B
    last      t_last  = 2(n-1) * alpha + 2(n-1)/n * bucket / B
    exposed   t_x     = max(t_ar - f_bwd * t_c, 0) + t_last
    step      t       = t_c + t_x,   efficiency = t_c / t

G = gradient bytes (4 x trainable parameters), buckets of `bucket` bytes (dist.bucket_mb),
f_bwd = share of the step in backward, during which buckets are reduced as they fill (2/3:
backward costs about twice forward). alpha and B are per network; the ring's slowest link sets B.

Usage:
  scripts/bench/scaling_model.py --s-img-asit S --s-img-ifer S [--bucket-mb 4] [--speedup 1]
  scripts/bench/scaling_model.py --check-netns        # the model against docs/benchmarks.md's 1 GbE runs

Prints markdown tables (and, with --json, one JSON line per row).
"""
import argparse
import json

NETWORKS = {
    # name: (alpha seconds per ring step, B bytes/s achievable for MPI over it)
    "10 GbE (TCP)": (30e-6, 1.15e9),
    "25 GbE (TCP)": (20e-6, 2.9e9),
    "100 Gb InfiniBand (UCX)": (3e-6, 11.5e9),
}
# Trainable parameters (`ifer inspect --config ...`): asit trains the encoder and discriminator_q,
# ifer trains the encoder and the IFER head (the generator inside it is frozen).
PARAMS = {
    "asit (configs/paper/asit-ffhq.yaml)": 265_832_456 + 22_370_048,
    "ifer (configs/paper/ifer-rafdb.yaml)": 265_832_456 + 2_888_199,
}
F_BWD = 2.0 / 3.0
BUCKETS_MB = [1, 4, 16, 64, 256]


def ring(n, nbytes, bucket, alpha, bw):
    if n == 1:
        return 0.0, 0.0
    buckets = max(1, -(-nbytes // bucket))
    t_ar = buckets * 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / bw
    t_last = 2 * (n - 1) * alpha + 2 * (n - 1) / n * min(bucket, nbytes) / bw
    return t_ar, t_last


def step(n, b, s_img, nbytes, bucket, alpha, bw):
    t_c = b * s_img
    t_ar, t_last = ring(n, nbytes, bucket, alpha, bw)
    t_x = (max(t_ar - F_BWD * t_c, 0.0) + t_last) if n > 1 else 0.0
    return t_c, t_ar, t_x, t_c + t_x, t_c / (t_c + t_x)


def min_batch(n, s_img, nbytes, bucket, alpha, bw, target=0.9):
    """Smallest per-rank batch reaching `target` efficiency (None if > 4096)."""
    for b in range(1, 4097):
        if step(n, b, s_img, nbytes, bucket, alpha, bw)[4] >= target:
            return b
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--s-img-asit", type=float, help="measured seconds per image per rank, paper asit step")
    ap.add_argument("--s-img-ifer", type=float, help="measured seconds per image per rank, paper ifer step")
    ap.add_argument("--batch", type=int, default=8, help="per-rank batch of the tables")
    ap.add_argument("--bucket-mb", type=float, default=4.0)
    ap.add_argument("--speedup", type=float, default=1.0, help="rank compute speed relative to the measured one")
    ap.add_argument("--ranks", default="8,64,512")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check-netns", action="store_true")
    a = ap.parse_args()

    if a.check_netns:
        # docs/benchmarks.md, "across hosts": 1 GbE tbf, alpha from the same run's 4 KB time.
        rows = [(2, "1MB", 1 << 20, 36.337), (2, "16MB", 16 << 20, 397.785), (2, "tiny", 10_400_000, 263.079),
                (3, "1MB", 1 << 20, 93.006), (3, "16MB", 16 << 20, 1006.261), (3, "tiny", 10_400_000, 678.510)]
        alpha = {2: 42e-6, 3: 2.1e-3}
        print("| hosts | size | model ms | measured ms (loaded machine) | measured / model |")
        print("|---:|---|---:|---:|---:|")
        for n, name, nbytes, ms in rows:
            t, _ = ring(n, nbytes, nbytes, alpha[n], 125e6)
            print(f"| {n} | {name} | {t * 1e3:.1f} | {ms:.1f} | {ms / (t * 1e3):.2f} |")
        return

    bucket = int(a.bucket_mb * (1 << 20))
    ranks = [int(r) for r in a.ranks.split(",")]
    for model, s_img in (("asit (configs/paper/asit-ffhq.yaml)", a.s_img_asit), ("ifer (configs/paper/ifer-rafdb.yaml)", a.s_img_ifer)):
        if s_img is None:
            continue
        s = s_img / a.speedup
        nbytes = 4 * PARAMS[model]
        print(f"\n{model}: {PARAMS[model]:,} trainable parameters, gradient {nbytes / 1e9:.2f} GB, "
              f"{s:.2f} s per image per rank, per-rank batch {a.batch}, buckets {a.bucket_mb:g} MB")
        print(f"| network | ranks | global batch | compute s | all-reduce s | exposed s | step s | efficiency | per-rank batch for 0.9 (global) | best bucket MB: efficiency |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for net, (alpha, bw) in NETWORKS.items():
            for n in ranks:
                t_c, t_ar, t_x, t, eff = step(n, a.batch, s, nbytes, bucket, alpha, bw)
                b9 = min_batch(n, s, nbytes, bucket, alpha, bw)
                need = f"{b9} ({b9 * n:,})" if b9 else "> 4096"
                best = max(BUCKETS_MB, key=lambda mb: step(n, a.batch, s, nbytes, int(mb * (1 << 20)), alpha, bw)[4])
                best_eff = step(n, a.batch, s, nbytes, int(best * (1 << 20)), alpha, bw)[4]
                print(f"| {net} | {n} | {n * a.batch:,} | {t_c:.2f} | {t_ar:.2f} | {t_x:.3f} | {t:.2f} | {eff:.3f} | {need} | {best:g}: {best_eff:.3f} |")
                if a.json:
                    print(json.dumps({"model": model.split()[0], "network": net, "ranks": n, "batch_per_rank": a.batch,
                                      "compute_s": t_c, "allreduce_s": t_ar, "exposed_s": t_x, "step_s": t,
                                      "efficiency": eff, "batch_per_rank_for_0.9": b9}))


if __name__ == "__main__":
    main()
