#!/usr/bin/env python3
"""Runs `ifer bench step --model peer --json` and the PyTorch peer's ASIT-like training step
(shared/peers/peer_bench.py `single --cases asit_step_b8,asit_step_b8_scalemodconv`, and `ddp`)
in the same window, alternating rounds, and prints one JSON line per comparison with both medians
over rounds and the ratio peer_ms / ours_ms (> 1 means we are faster).

    python3 -m venv .venv-peer && .venv-peer/bin/pip install "torch==2.13.0+cpu" numpy threadpoolctl
    .venv-peer/bin/python scripts/bench/compare_step.py --rounds 3          # add --no-ddp to skip mpirun
"""
import argparse
import json
import os
import sys

from benchlib import ROOT, lines, med

# shared/ sits next to the main checkout (/work/main) or two levels above a worktree (/work/wt/NAME).
PEER = next((p for p in (os.path.join(ROOT, *up, "shared", "peers", "peer_bench.py") for up in (("..",), ("..", "..")))
             if os.path.exists(p)), os.path.join(ROOT, "..", "shared", "peers", "peer_bench.py"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--ifer", default=os.path.join(ROOT, ".build", "release", "ifer"))
    ap.add_argument("--peer", default=PEER, help="path of shared/peers/peer_bench.py")
    ap.add_argument("--no-ddp", action="store_true", help="skip the 2-process runs")
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    ours, peer, ddp_ours, ddp_peer = {}, {}, [], []
    for r in range(a.rounds):
        for d in lines([a.ifer, "bench", "step", "--model", "peer", "--modconv", "both", "--json", "--threads", a.threads]):
            if "ms" in d:
                ours.setdefault((d["modconv"], d["threads"]), []).append(d["ms"])
        for d in lines([sys.executable, a.peer, "single", "--threads", a.threads,
                        "--cases", "asit_step_b8,asit_step_b8_scalemodconv"]):
            if "ms" in d:
                peer.setdefault((d["case"], d["threads"]), []).append(d["ms"])
        if not a.no_ddp:
            ddp_ours += lines(["mpirun", "-np", "2", a.ifer, "bench", "step", "--model", "peer", "--json"], env)[-1:]
            ddp_peer += [d for d in lines([sys.executable, a.peer, "ddp", "--mode", "scale"]) if "world" in d]
        print(json.dumps({"round": r + 1, "done": True}), file=sys.stderr, flush=True)
    for th in sorted({t for _, t in ours}):
        for mode, peer_case in (("scale", "asit_step_b8_scalemodconv"), ("grouped", "asit_step_b8")):
            if (mode, th) not in ours:
                continue
            o = med(ours[(mode, th)])
            row = {"case": "asit_step_b8", "modconv": mode, "threads": th, "ours_ms": o, "ours_rounds": ours[(mode, th)]}
            for label, pc in (("peer_grouped", "asit_step_b8"), ("peer_scale", "asit_step_b8_scalemodconv")):
                if (pc, th) in peer:
                    p = med(peer[(pc, th)])
                    row.update({label + "_ms": p, "speedup_vs_" + label: round(p / o, 3), label + "_rounds": peer[(pc, th)]})
            print(json.dumps(row))
    if ddp_ours:
        eff = [d["scaling_efficiency"] for d in ddp_ours]
        row = {"case": "asit_step_b8_ddp", "world": 2, "ours_images_per_s": med([d["images_per_s"] for d in ddp_ours]),
               "ours_single_images_per_s": med([d["single_images_per_s"] for d in ddp_ours]),
               "ours_scaling_efficiency": med(eff), "ours_efficiency_rounds": [round(e, 3) for e in eff]}
        w1 = [d["imgs_per_s_total"] for d in ddp_peer if d["world"] == 1]
        w2 = [d["imgs_per_s_total"] for d in ddp_peer if d["world"] == 2]
        if w1 and w2:
            peff = [b / (2 * x) for x, b in zip(w1, w2)]
            row.update(peer_images_per_s=med(w2), peer_single_images_per_s=med(w1), peer_scaling_efficiency=med(peff),
                       peer_efficiency_rounds=[round(e, 3) for e in peff])
        print(json.dumps(row))


if __name__ == "__main__":
    main()
