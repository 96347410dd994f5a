"""Golden values for IFERLayers (Linear, Conv2d, LayerNorm): forward output and the gradients of
L = sum(out * seed) w.r.t. the input, weight and bias. Writes Tests/IFERLayersTests/Fixtures/layers.json.
Run: .venv-golden/bin/python scripts/reference/layers_golden.py"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(0)
out = {}


def case(name, module, x):
    x = x.clone().requires_grad_(True)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape) * 0.5)
    y = module(x)
    seed = torch.randn(y.shape)
    (y * seed).sum().backward()
    f = lambda t: {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}
    out[name] = {"input": f(x), "seed": f(seed), "output": f(y), "input_grad": f(x.grad),
                 "params": {n: f(p) for n, p in module.named_parameters()},
                 "param_grads": {n: f(p.grad) for n, p in module.named_parameters()}}


case("linear", nn.Linear(5, 4), torch.randn(2, 3, 5))
case("linear_nobias", nn.Linear(5, 4, bias=False), torch.randn(3, 5))
case("layernorm", nn.LayerNorm(6), torch.randn(2, 3, 6))
case("conv2d", nn.Conv2d(4, 6, 3, stride=2, padding=1), torch.randn(2, 4, 7, 7))
case("conv2d_depthwise", nn.Conv2d(4, 4, 3, padding=1, groups=4), torch.randn(2, 4, 5, 5))
path = os.path.join(os.path.dirname(__file__), "../../Tests/IFERLayersTests/Fixtures/layers.json")
with open(path, "w") as fh:
    json.dump(out, fh)
