"""Loss, metric and learning-rate curves of training runs, from <run>/metrics.jsonl, to PNG.

    python3 scripts/plot_run.py RUN_DIR [RUN_DIR...] [--out curves.png] [--smooth 0.9] [--log-loss]

One figure with three panels: every loss term of the `train` records (loss, loss_d, l2, lpips,
...; each run's curve labelled "run: term"), every numeric value of the `eval` records
(accuracy, val_loss, l2, ...; counts such as images are left out), and the learning rate.
Several runs are overlaid. --smooth applies an exponential moving average to the loss curves
(0 = raw; the raw curve is drawn faintly behind). Default output: RUN_DIR/curves.png for one
run, curves.png for several. Needs matplotlib (pip install matplotlib into .venv-golden or the
system Python); a torn last line of a metrics file being written is skipped.
"""
import argparse
import json
import math
import os
import sys

NOT_LOSSES = {"kind", "step", "epoch", "lr", "images_per_s", "elapsed_s"}
NOT_METRICS = {"kind", "step", "epoch", "images", "samples", "ranks"}


def read_metrics(run):
    path = os.path.join(run, "metrics.jsonl")
    if not os.path.isfile(path):
        raise SystemExit(f"{run}: no metrics.jsonl (is it a run folder of `ifer train`?)")
    train, evals = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                print(f"warning: {path}:{n}: not JSON, skipped", file=sys.stderr)
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("step"), int):
                continue
            (evals if rec.get("kind") == "eval" else train).append(rec)
    return train, evals


def numeric(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def series(records, skip):
    """{key: ([steps], [values])} for every numeric key outside `skip`."""
    out = {}
    for r in records:
        for k, v in r.items():
            if k in skip or not numeric(v):
                continue
            xs, ys = out.setdefault(k, ([], []))
            xs.append(r["step"])
            ys.append(float(v))
    return out


def ema(ys, beta):
    out, m = [], None
    for y in ys:
        m = y if m is None else beta * m + (1 - beta) * y
        out.append(m)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--out", help="PNG to write (default: RUN_DIR/curves.png, or curves.png for several runs)")
    ap.add_argument("--smooth", type=float, default=0.0, help="EMA factor in [0, 1) for the loss curves")
    ap.add_argument("--log-loss", action="store_true", help="logarithmic loss axis")
    a = ap.parse_args(argv)
    if not 0 <= a.smooth < 1:
        raise SystemExit("--smooth must be in [0, 1)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_eval, ax_lr) = plt.subplots(3, 1, figsize=(9, 10), sharex=True)
    drew = [0, 0, 0]
    for run in a.runs:
        name = os.path.basename(os.path.normpath(run))
        train, evals = read_metrics(run)
        for k, (xs, ys) in sorted(series(train, NOT_LOSSES).items()):
            if a.smooth > 0:
                line, = ax_loss.plot(xs, ys, alpha=0.25, linewidth=0.8)
                ax_loss.plot(xs, ema(ys, a.smooth), color=line.get_color(), label=f"{name}: {k}")
            else:
                ax_loss.plot(xs, ys, label=f"{name}: {k}")
            drew[0] += 1
        for k, (xs, ys) in sorted(series(evals, NOT_METRICS).items()):
            ax_eval.plot(xs, ys, marker="o", markersize=3, label=f"{name}: {k}")
            drew[1] += 1
        lr = [(r["step"], float(r["lr"])) for r in train if numeric(r.get("lr"))]
        if lr:
            ax_lr.plot([s for s, _ in lr], [v for _, v in lr], label=name)
            drew[2] += 1
        print(f"{run}: {len(train)} train records, {len(evals)} eval records")
    for ax, title, n in [(ax_loss, "training losses", drew[0]), (ax_eval, "evaluation", drew[1]), (ax_lr, "learning rate", drew[2])]:
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if n:
            ax.legend(fontsize=7, ncol=2)
        else:
            ax.text(0.5, 0.5, "no records", ha="center", va="center", transform=ax.transAxes)
    if a.log_loss and drew[0]:
        ax_loss.set_yscale("log")
    ax_lr.set_xlabel("step")
    fig.tight_layout()
    out = a.out or (os.path.join(a.runs[0], "curves.png") if len(a.runs) == 1 else "curves.png")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    main()
