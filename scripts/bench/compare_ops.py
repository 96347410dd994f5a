#!/usr/bin/env python3
"""Runs `ifer bench ops --json` and the PyTorch peer (shared/peers/peer_bench.py) in the same window,
alternating rounds, and prints one JSON line per case and thread count with both medians and the
ratio peer_ms / ours_ms (> 1 means we are faster).

    python3 -m venv .venv-peer && .venv-peer/bin/pip install "torch==2.13.0+cpu" numpy threadpoolctl
    .venv-peer/bin/python scripts/bench/compare_ops.py --rounds 3
"""
import argparse
import json
import os
import statistics
import sys

from benchlib import ROOT, lines

PEER = os.path.join(ROOT, "..", "shared", "peers", "peer_bench.py")
# our case name -> the peer's
CASES = {
    "sgemm_512": "sgemm_512", "sgemm_1024": "sgemm_1024",
    "conv3x3_b8_64c_32x32_fwdbwd": "conv3x3_b8_64c_32x32_fwdbwd",
    "conv3x3_b8_64c_64x64_fwdbwd": "conv3x3_b8_64c_64x64_fwdbwd",
    "modconv_b8_64c_32x32_fwdbwd": "modconv_scale_b8_64c_32x32_fwdbwd",
    "transformer_block_b8_t64_d128_fwdbwd": "transformer_block_b8_t64_d128_fwdbwd",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--ifer", default=os.path.join(ROOT, ".build", "release", "ifer"))
    ap.add_argument("--peer", default=PEER, help="path of shared/peers/peer_bench.py")
    a = ap.parse_args()
    ours, peer = {}, {}
    for _ in range(a.rounds):
        for d in lines([a.ifer, "bench", "ops", "--json", "--threads", a.threads]):
            ours.setdefault((d["case"], d["threads"]), []).append(d["ms"])
        for d in lines([sys.executable, a.peer, "single", "--threads", a.threads, "--cases", ",".join(CASES.values())]):
            if "ms" in d:
                peer.setdefault((d["case"], d["threads"]), []).append(d["ms"])
    for (case, th), ms in sorted(ours.items()):
        row = {"case": case, "threads": th, "ours_ms": round(statistics.median(ms), 3)}
        if case in CASES and (CASES[case], th) in peer:
            p = statistics.median(peer[(CASES[case], th)])
            row.update(peer_case=CASES[case], peer_ms=round(p, 3), speedup=round(p / row["ours_ms"], 3))
        if case == "sgemm_1024" and ("blas_sgemm_1024", th) in ours:
            row["fraction_of_raw_blas"] = round(statistics.median(ours[("blas_sgemm_1024", th)]) / row["ours_ms"], 3)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
