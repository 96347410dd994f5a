"""Golden cases for the non-convolution ops: elementwise (with broadcasting), activations,
reductions, softmax, normalisation, shape and window ops, losses.

Each case name matches one line in Tests/IFERTensorTests/OpsBasicTests.swift.
Run: cd scripts/golden && ../../.venv-golden/bin/python ops_basic.py
"""
import math

import torch
import torch.nn.functional as F

from common import case, rand, randn

torch.manual_seed(0)

# Elementwise binary ops with broadcasting: (suffix, shape a, shape b).
SHAPES = [
    ("same", (3, 4), (3, 4)),
    ("bias", (2, 3, 4), (4,)),
    ("channel", (2, 3, 2, 2), (1, 3, 1, 1)),
    ("outer", (3, 1), (1, 4)),
    ("left", (4,), (2, 3, 4)),
    ("mixed", (2, 1, 4), (3, 1)),
    ("scalar", (2, 3), ()),
]
for i, (tag, sa, sb) in enumerate(SHAPES):
    # torch.randn needs at least one size: draw [1] and reshape for the scalar-shaped operand.
    a, b = randn(*sa, seed=10 + i), randn(*(sb or (1,)), seed=20 + i).reshape(sb)
    sign = torch.where(randn(*(sb or (1,)), seed=40 + i) > 0, 1.0, -1.0)
    bpos = (rand(*(sb or (1,)), seed=30 + i, low=0.5, high=2.0) * sign).reshape(sb)
    case(f"add_{tag}", lambda x, y: x + y, [a, b], seed=i)
    case(f"sub_{tag}", lambda x, y: x - y, [a, b], seed=i)
    case(f"mul_{tag}", lambda x, y: x * y, [a, b], seed=i)
    case(f"div_{tag}", lambda x, y: x / y, [a, bpos], seed=i)

# Unary ops.
x = randn(3, 5, seed=50)
xpos = rand(3, 5, seed=51, low=0.3, high=3.0)
case("addScalar", lambda t: t + 1.5, [x])
case("scale", lambda t: t * -0.75, [x])
case("neg", lambda t: -t, [x])
case("exp", lambda t: torch.exp(t), [x])
case("log", lambda t: torch.log(t), [xpos])
case("sqrt", lambda t: torch.sqrt(t), [xpos])
case("rsqrt", lambda t: torch.rsqrt(t), [xpos])
case("square", lambda t: t * t, [x])
case("pow3", lambda t: t ** 3, [x])
case("pow_half", lambda t: t ** 0.5, [xpos])
case("pow_neg", lambda t: t ** -1.5, [xpos])
case("abs", lambda t: t.abs(), [x])

# Activations.
xa = randn(4, 6, seed=60, scale=2.0)
case("relu", F.relu, [xa])
case("leakyRelu", lambda t: F.leaky_relu(t, 0.1), [xa])
case("leakyRelu_stylegan", lambda t: F.leaky_relu(t, 0.2) * math.sqrt(2), [xa])
case("gelu", F.gelu, [xa])
case("sigmoid", torch.sigmoid, [xa])
case("tanh", torch.tanh, [xa])

# Reductions.
xr = randn(2, 3, 4, seed=70)
case("sum_axis1", lambda t: t.sum(dim=1), [xr])
case("sum_axes02", lambda t: t.sum(dim=(0, 2)), [xr])
case("sum_last_keep", lambda t: t.sum(dim=-1, keepdim=True), [xr])
case("sum_all_axes", lambda t: t.sum(dim=(0, 1, 2)), [xr])
case("sum_long_rows", lambda t: t.sum(dim=1), [randn(3, 45, seed=71)])
case("mean_axis0", lambda t: t.mean(dim=0), [xr])
case("mean_axes12_keep", lambda t: t.mean(dim=(1, 2), keepdim=True), [xr])
case("mean_nchw_channel", lambda t: t.mean(dim=(0, 2, 3)), [randn(2, 3, 2, 2, seed=72)])
case("sumAll", lambda t: t.sum(), [xr])
case("meanAll", lambda t: t.mean(), [xr])

# Softmax.
xs = randn(2, 3, 5, seed=80, scale=3.0)
case("softmax_last", lambda t: F.softmax(t, dim=-1), [xs])
case("softmax_axis1", lambda t: F.softmax(t, dim=1), [xs])
case("softmax_axis0", lambda t: F.softmax(t, dim=0), [xs])
case("softmax_large", lambda t: F.softmax(t, dim=-1), [randn(3, 4, seed=81, scale=40.0) + 500])
case("logSoftmax_last", lambda t: F.log_softmax(t, dim=-1), [xs])
case("logSoftmax_axis1", lambda t: F.log_softmax(t, dim=1), [xs])
case("logSoftmax_large", lambda t: F.log_softmax(t, dim=-1), [randn(3, 4, seed=82, scale=40.0) - 500])

# Normalisation.
xl = randn(2, 3, 10, seed=90, scale=2.0) + 1.0
w, b = 1 + 0.3 * randn(10, seed=91), 0.5 * randn(10, seed=92)
case("layerNorm_affine", lambda t, w_, b_: F.layer_norm(t, (10,), w_, b_, eps=1e-5), [xl, w, b])
case("layerNorm_plain", lambda t: F.layer_norm(t, (10,), eps=1e-5), [xl])
case("layerNorm_weight", lambda t, w_: F.layer_norm(t, (10,), w_, None, eps=1e-5), [xl, w])
case("layerNorm_wide", lambda t, w_, b_: F.layer_norm(t, (40,), w_, b_, eps=1e-5),
     [randn(3, 40, seed=93), 1 + 0.3 * randn(40, seed=94), randn(40, seed=95)])


def pixel_norm(t):  # StyleGAN2 PixelNorm
    return t * torch.rsqrt(torch.mean(t ** 2, dim=1, keepdim=True) + 1e-8)


case("pixelNorm_vec", pixel_norm, [randn(3, 16, seed=96)])
case("pixelNorm_map", pixel_norm, [randn(2, 3, 2, 2, seed=97)])

# Shape.
xp = randn(2, 3, 4, seed=100)
case("reshape", lambda t: t.reshape(6, -1) * 1.0, [xp])
case("permute_201", lambda t: t.permute(2, 0, 1), [xp])
case("permute_heads", lambda t: t.permute(0, 2, 1, 3), [randn(2, 3, 2, 4, seed=101)])
case("permute_identity", lambda t: t.permute(0, 1, 2), [xp])
case("transpose_last", lambda t: t.transpose(-1, -2), [xp])
case("concat_axis1", lambda a, b, c: torch.cat([a, b, c], dim=1),
     [randn(2, 1, 3, seed=102), randn(2, 2, 3, seed=103), randn(2, 3, 3, seed=104)])
case("concat_axis0", lambda a, b: torch.cat([a, b], dim=0), [randn(1, 4, seed=105), randn(2, 4, seed=106)])
case("concat_last", lambda a, b: torch.cat([a, b], dim=-1), [randn(2, 3, 2, seed=107), randn(2, 3, 1, seed=108)])
case("split_axis1", lambda t: torch.cat([p * (k + 1) for k, p in enumerate(torch.split(t, [1, 2, 1], dim=1))], dim=1),
     [randn(2, 4, 3, seed=109)])
case("slice_axis0", lambda t: t[1:3], [randn(4, 3, seed=110)])
case("slice_axis1", lambda t: t[:, 1:3], xp.unsqueeze(0).unbind(0))
case("slice_last", lambda t: t[..., 3:4], [xp])


# Windows (GC ViT window_partition / window_reverse).
def window_partition(t, ws):
    B, H, W, C = t.shape
    t = t.view(B, H // ws, ws, W // ws, ws, C)
    return t.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C)


def window_reverse(t, ws, H, W):
    B = int(t.shape[0] / (H * W / ws / ws))
    t = t.view(B, H // ws, W // ws, ws, ws, -1)
    return t.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


case("windowPartition", lambda t: window_partition(t, 2), [randn(2, 4, 4, 3, seed=120)])
case("windowPartition_rect", lambda t: window_partition(t, 2), [randn(1, 4, 6, 2, seed=121)])
case("windowReverse", lambda t: window_reverse(t, 2, 4, 4), [randn(8, 2, 2, 3, seed=122)])
case("windowReverse_rect", lambda t: window_reverse(t, 2, 4, 6), [randn(6, 2, 2, 2, seed=123)])
IDX = [0, 2, 2, 4, 1, 0]
case("indexSelect", lambda t: t[IDX], [randn(5, 3, seed=124)])
case("indexSelect_axis1", lambda t: t[:, IDX], [randn(2, 5, 2, seed=125)])

# Losses and similarities.
case("mseLoss", lambda a, b: F.mse_loss(a, b), [randn(3, 4, seed=130), randn(3, 4, seed=131)])
case("cosineSimilarity_last", lambda a, b: F.cosine_similarity(a, b, dim=-1, eps=1e-8),
     [randn(3, 5, seed=132), randn(3, 5, seed=133)])
case("cosineSimilarity_axis1", lambda a, b: F.cosine_similarity(a, b, dim=1, eps=1e-8),
     [randn(2, 4, 3, seed=134), randn(2, 4, 3, seed=135)])
logits = randn(4, 5, seed=136, scale=2.0)
soft = F.softmax(randn(4, 5, seed=137, scale=2.0), dim=-1)
LABELS = [1, 0, 4, 2]
case("crossEntropy_soft", lambda x_, t_: F.cross_entropy(x_, t_), [logits, soft])
case("crossEntropy_labels", lambda x_: F.cross_entropy(x_, torch.tensor(LABELS)), [logits])
case("crossEntropy_smooth", lambda x_: F.cross_entropy(x_, torch.tensor(LABELS), label_smoothing=0.1), [logits])
log_in = F.log_softmax(randn(3, 6, seed=138), dim=-1)
target = F.softmax(randn(3, 6, seed=139, scale=2.0), dim=-1)
for red in ["batchmean", "mean", "sum"]:
    case(f"klDivergence_{red}", lambda a, t_, r=red: F.kl_div(a, t_, reduction=r), [log_in, target])
target0 = target.clone()
target0[0, 1] = 0.0
target0[2, 4] = 0.0
case("klDivergence_zero_target", lambda a, t_: F.kl_div(a, t_, reduction="batchmean"), [log_in, target0],
     grad=[True, False])
