"""Small helpers shared by the comparison scripts in scripts/bench (ours vs a PyTorch side, run
alternately in one window): the repository root, JSON-line capture of a subprocess, medians, and
the `Timing.measure` loop of Sources/IFERTools/Measure.swift for the Python side."""
import json
import math
import os
import resource
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lines(cmd, env=None, cwd=None, mem_gb=0):
    """Runs cmd and returns its stdout lines that are JSON objects (the others are skipped).
    mem_gb > 0 caps the process's address space (ulimit -v)."""
    def cap():
        n = int(mem_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (n, n))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=cwd,
                         preexec_fn=cap if mem_gb > 0 else None).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def med(xs):
    return round(statistics.median(xs), 3)


def measure(body, warmup=3, reps=10, min_time=1.0):
    """Our Timing.measure: `warmup` untimed calls, one timed estimate, then max(reps, min(200,
    ceil(min_time / estimate))) timed calls. Returns (median ms, number of timed calls)."""
    for _ in range(warmup):
        body()
    t0 = time.perf_counter()
    body()
    est = max(time.perf_counter() - t0, 1e-6)
    n = max(reps, min(200, math.ceil(min_time / est)))
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        body()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3, n
