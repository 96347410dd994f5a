"""Golden optimizer trajectories: torch.optim SGD / Adam / AdamW and a Ranger written as pSp ships it
(RAdam + Lookahead + gradient centralisation), on two tensors (a [3, 4] weight and a [4] bias) with
fixed random gradients for 7 steps. Writes Tests/IFEROptimTests/Fixtures/optim.json.
Run: cd scripts/golden && ../../.venv-golden/bin/python optim.py
"""
import json
import math
import os

import torch

from common import ROOT

OUT = os.path.join(ROOT, "Tests", "IFEROptimTests", "Fixtures", "optim.json")


class Ranger(torch.optim.Optimizer):
    """pSp's Ranger (lessw2020 Ranger-Deep-Learning-Optimizer), restated."""

    def __init__(self, params, lr=1e-3, alpha=0.5, k=6, n_sma_threshhold=5, betas=(0.95, 0.999), eps=1e-5, weight_decay=0):
        super().__init__(params, dict(lr=lr, alpha=alpha, k=k, step_counter=0, betas=betas,
                                      n_sma_threshhold=n_sma_threshhold, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad.clone()
                if grad.dim() > 1:  # gradient centralisation
                    grad -= grad.mean(dim=tuple(range(1, grad.dim())), keepdim=True)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    state["slow_buffer"] = p.clone()
                m, v = state["exp_avg"], state["exp_avg_sq"]
                b1, b2 = group["betas"]
                state["step"] += 1
                t = state["step"]
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                m.mul_(b1).add_(grad, alpha=1 - b1)
                b2t = b2 ** t
                rho_inf = 2 / (1 - b2) - 1
                rho_t = rho_inf - 2 * t * b2t / (1 - b2t)
                if rho_t > group["n_sma_threshhold"]:
                    step_size = math.sqrt((1 - b2t) * (rho_t - 4) / (rho_inf - 4) * (rho_t - 2) / rho_t * rho_inf / (rho_inf - 2)) / (1 - b1 ** t)
                else:
                    step_size = 1.0 / (1 - b1 ** t)
                if group["weight_decay"] != 0:
                    p.add_(p, alpha=-group["weight_decay"] * group["lr"])
                if rho_t > group["n_sma_threshhold"]:
                    p.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-step_size * group["lr"])
                else:
                    p.add_(m, alpha=-step_size * group["lr"])
                if t % group["k"] == 0:
                    slow = state["slow_buffer"]
                    slow.add_(p - slow, alpha=group["alpha"])
                    p.copy_(slow)


def run(make, steps=7, lr=0.01):
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 4, generator=g).requires_grad_()
    b = torch.randn(4, generator=g).requires_grad_()
    grads = [(torch.randn(3, 4, generator=g), torch.randn(4, generator=g)) for _ in range(steps)]
    init = [w.detach().clone(), b.detach().clone()]
    opt = make([w, b], lr)
    traj = []
    for gw, gb in grads:
        w.grad, b.grad = gw.clone(), gb.clone()
        opt.step()
        traj.append(w.detach().reshape(-1).tolist() + b.detach().tolist())
    return {"init": init[0].reshape(-1).tolist() + init[1].tolist(),
            "grads": [gw.reshape(-1).tolist() + gb.tolist() for gw, gb in grads], "traj": traj, "lr": lr}


def groups(params, wd):
    # No decay on biases / 1-D tensors, as the Swift decayMask does.
    return [{"params": [params[0]], "weight_decay": wd}, {"params": [params[1]], "weight_decay": 0.0}]


cases = {
    "sgd": run(lambda ps, lr: torch.optim.SGD(ps, lr=lr)),
    "sgd_momentum": run(lambda ps, lr: torch.optim.SGD(groups(ps, 0.01), lr=lr, momentum=0.9)),
    "sgd_nesterov": run(lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True)),
    "adam": run(lambda ps, lr: torch.optim.Adam(groups(ps, 0.01), lr=lr)),
    "adamw": run(lambda ps, lr: torch.optim.AdamW(groups(ps, 0.05), lr=lr)),
    "ranger": run(lambda ps, lr: Ranger(ps, lr=lr), steps=13),
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(cases, f)
print("wrote", OUT)
