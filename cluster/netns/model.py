#!/usr/bin/env python3
"""Ring all-reduce alpha-beta model against the measured netns runs (bench-allreduce.sh).

t(S) = 2(n-1)/n * S / B + 2(n-1) * alpha
B = 125 MB/s (1 GbE line rate); alpha per ring step is taken from the same run's 4 KB raw
MPI_Allreduce time: alpha = t(4KB) / (2(n-1)) (its bandwidth term is 0.03 ms at 1 GbE, left out).
Prints one markdown table row per (n, size) of the 1g runs, and the unshaped times beside them.
"""
import json
import os
import sys

LINK_BYTES_PER_S = 125e6


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                rows[r["name"]] = r
    return rows


def main(out):
    print("| hosts | size | bytes | raw MPI ms unshaped | raw MPI ms 1 GbE | ours ms 1 GbE | ring model ms | MPI / model |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n in (2, 3):
        shaped = load(os.path.join(out, f"ar-n{n}-1g.jsonl"))
        free = load(os.path.join(out, f"ar-n{n}-none.jsonl"))
        alpha_s = shaped["4KB"]["mpi_ms"] / 1e3 / (2 * (n - 1))
        for name, r in shaped.items():
            s = r["bytes"]
            model_ms = (2 * (n - 1) / n * s / LINK_BYTES_PER_S + 2 * (n - 1) * alpha_s) * 1e3
            unshaped = free.get(name, {}).get("mpi_ms", float("nan"))
            print(f"| {n} | {name} | {s:,} | {unshaped:.3f} | {r['mpi_ms']:.3f} | {r['ours_ms']:.3f} | "
                  f"{model_ms:.3f} | {r['mpi_ms'] / model_ms:.2f} |")
        print(f"<!-- n={n}: alpha = {alpha_s * 1e6:.1f} us per ring step (from 4 KB) -->")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/netns-bench")
