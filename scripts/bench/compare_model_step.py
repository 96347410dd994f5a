#!/usr/bin/env python3
"""Our stage training steps (`ifer bench step --config FILE`) against the same steps in PyTorch
built from the project's reference modules (scripts/bench/reference_step.py), for the micro, tiny
and paper configs, alternating ours and the reference in one window (the side that goes first
swaps every round). Prints one JSON line per (size, stage, threads) with both medians over rounds
and speedup = reference_ms / ours_ms (> 1: ours is faster), and the load average before and after.

    python3 -m venv .venv-golden && .venv-golden/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl numpy pyyaml
    .venv-golden/bin/python scripts/bench/compare_model_step.py --sizes micro,tiny --rounds 3
    .venv-golden/bin/python scripts/bench/compare_model_step.py --sizes paper --rounds 1 --mem-gb 20   # batch 2

The reference checks its parameter counts against `ifer inspect --json` (first round) and stops
if they differ. --mem-gb caps each process's address space (ulimit -v) for the paper size.
"""
import argparse
import json
import os
import sys

from benchlib import ROOT, lines, med

CONFIGS = {
    "micro": {"asit": "configs/micro/asit.yaml", "ifer": "configs/micro/ifer.yaml", "generator": "configs/micro/generator.yaml"},
    "tiny": {"asit": "configs/tiny/asit.yaml", "ifer": "configs/tiny/ifer.yaml", "generator": "configs/tiny/generator.yaml"},
    "paper": {"asit": "configs/paper/asit-ffhq.yaml", "ifer": "configs/paper/ifer-rafdb.yaml",
              "generator": "configs/paper/generator-ffhq256.yaml"},
}


def loadavg():
    return [round(v, 2) for v in os.getloadavg()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="micro,tiny,paper")
    ap.add_argument("--stages", default="asit,ifer,generator")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8, help="micro and tiny")
    ap.add_argument("--paper-batch", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=3.0, help="both sides: minimum timed seconds per thread count")
    ap.add_argument("--paper-warmup", type=int, default=1, help="paper size: untimed steps (both sides)")
    ap.add_argument("--paper-reps", type=int, default=3, help="paper size: timed steps (both sides; min-time 0)")
    ap.add_argument("--mem-gb", type=float, default=0, help="address-space cap per process (0: none)")
    ap.add_argument("--ifer", default=os.path.join(ROOT, ".build", "release", "ifer"))
    a = ap.parse_args()
    ref = [sys.executable, os.path.join(ROOT, "scripts", "bench", "reference_step.py")]

    def run(cmd):
        return lines(cmd, cwd=ROOT, mem_gb=a.mem_gb)

    print(json.dumps({"loadavg_start": loadavg(), "cpus": os.cpu_count()}), flush=True)
    ours, theirs, params = {}, {}, {}
    cases = [(s, st) for s in a.sizes.split(",") for st in a.stages.split(",")]
    for r in range(a.rounds):
        for size, stage in cases:
            cfg = CONFIGS[size][stage]
            b = a.paper_batch if size == "paper" else a.batch
            timing = ["--min-time", "0", "--warmup", str(a.paper_warmup), "--reps", str(a.paper_reps)] if size == "paper" \
                else ["--min-time", str(a.min_time)]
            mine = [a.ifer, "bench", "step", "--config", cfg, "--batch", str(b), "--threads", a.threads, "--json"] + timing
            other = ref + ["--config", cfg, "--batch", str(b), "--threads", a.threads, "--ifer", a.ifer] + timing + \
                ([] if r == 0 else ["--no-check"])
            for side in ((mine, ours), (other, theirs)) if r % 2 == 0 else ((other, theirs), (mine, ours)):
                for d in run(side[0]):
                    if "params" in d:
                        params[(size, stage)] = d["params"]
                    if "ms" in d:
                        side[1].setdefault((size, stage, d["threads"]), []).append(d["ms"])
            print(json.dumps({"round": r + 1, "size": size, "stage": stage, "done": True, "loadavg": loadavg()}),
                  file=sys.stderr, flush=True)
    for key in sorted(ours, key=lambda k: (list(CONFIGS).index(k[0]), k[1], k[2])):
        size, stage, th = key
        b = a.paper_batch if size == "paper" else a.batch
        o = med(ours[key])
        row = {"size": size, "stage": stage, "config": CONFIGS[size][stage], "batch": b, "threads": th,
               "ours_ms": o, "ours_images_per_s": round(b / (o * 1e-3), 3), "ours_rounds": ours[key]}
        if key in theirs:
            t = med(theirs[key])
            row.update(reference_ms=t, reference_images_per_s=round(b / (t * 1e-3), 3), speedup=round(t / o, 3),
                       reference_rounds=theirs[key])
        row["params"] = params.get((size, stage))
        print(json.dumps(row), flush=True)
    print(json.dumps({"loadavg_end": loadavg()}), flush=True)


if __name__ == "__main__":
    main()
