"""Shared helpers for the golden-value generators.

Each generator builds op cases with PyTorch (torch==2.13.0+cpu, float64 math, float32 storage)
and writes one small JSON fixture per case under Tests/IFERTensorTests/Fixtures/ops/:

    {"name": ..., "inputs": [{"shape": [...], "data": [...], "grad": true|false}, ...],
     "seed": {"shape", "data"},        # gradient fed into backward (random, fixed by the case)
     "output": {"shape", "data"},      # forward result
     "grads": [{"shape", "data"} | null, ...]}   # d(sum(output * seed)) / d(input)

The Swift harness (Tests/IFERTensorTests/OpHarness.swift) replays the same function on the
same inputs and compares forward, backward, and finite differences.
Run: .venv-golden/bin/python scripts/golden/ops_basic.py (and the other ops_*.py).
"""
import json
import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "IFERTensorTests", "Fixtures", "ops")


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.reshape(-1).tolist()]}


def case(name, fn, inputs, grad=None, seed=0):
    """inputs: list of float tensors; grad: list of bools (default all True)."""
    os.makedirs(OUT, exist_ok=True)
    grad = grad if grad is not None else [True] * len(inputs)
    xs = []
    for x, g in zip(inputs, grad):
        # Round inputs to float32 first so both sides see exactly the same values.
        x = x.to(torch.float32).to(torch.float64).clone().requires_grad_(g)
        xs.append(x)
    out = fn(*xs)
    gen = torch.Generator().manual_seed(1000 + seed)
    s = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(torch.float32).to(torch.float64)
    grads = [None] * len(xs)
    if any(grad):
        gs = torch.autograd.grad((out * s).sum(), [x for x in xs if x.requires_grad], allow_unused=True)
        it = iter(gs)
        for i, x in enumerate(xs):
            if x.requires_grad:
                gi = next(it)
                grads[i] = tensor_json(gi if gi is not None else torch.zeros_like(x))
    doc = {
        "name": name,
        "inputs": [dict(tensor_json(x), grad=bool(g)) for x, g in zip(xs, grad)],
        "seed": tensor_json(s),
        "output": tensor_json(out),
        "grads": grads,
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def randn(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def rand(*shape, seed=0, low=0.0, high=1.0):
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)
