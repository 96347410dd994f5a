"""Golden cases for the core ops written with the tensor core itself (matmul)."""
import torch

from common import case, randn

torch.manual_seed(0)
case("matmul", lambda a, b: a @ b, [randn(3, 5, seed=1), randn(5, 4, seed=2)])
case("matmul_batched_tA", lambda a, b: a.transpose(-1, -2) @ b, [randn(2, 5, 3, seed=3), randn(2, 5, 4, seed=4)])
case("matmul_batched_tB", lambda a, b: a @ b.transpose(-1, -2), [randn(2, 3, 5, seed=5), randn(2, 4, 5, seed=6)])
case("matmul_shared_tB", lambda a, b: a @ b.t(), [randn(2, 3, 5, seed=7), randn(4, 5, seed=8)])
case("matmul_tAtB", lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2), [randn(2, 5, 3, seed=9), randn(2, 4, 5, seed=10)])
