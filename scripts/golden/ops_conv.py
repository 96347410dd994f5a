"""Golden cases for the image ops: conv2d, convTranspose2d, upfirdn2d, pooling, resizing.

Each case is small (at most a few hundred elements per tensor). Ops with constant arguments that
Swift receives as plain values (the upfirdn2d FIR kernel) store them as an extra input with
grad=False, so the Swift test reads the same numbers.
"""
import torch
import torch.nn.functional as F

from common import case, randn

torch.manual_seed(0)


def distinct(*shape, seed=0):
    """Values with gaps of 0.1 (a shuffled ramp): no ties, so max-pool finite differences are safe."""
    g = torch.Generator().manual_seed(seed)
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n, generator=g).to(torch.float64) * 0.1 - 0.05 * n).reshape(*shape)


# conv2d: x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O]
case("conv2d_dense", lambda x, w: F.conv2d(x, w), [randn(2, 3, 5, 5, seed=1), randn(4, 3, 3, 3, seed=2)])
case("conv2d_padded_bias", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     [randn(2, 3, 5, 5, seed=3), randn(4, 3, 3, 3, seed=4), randn(4, seed=5)])
case("conv2d_strided", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     [randn(1, 3, 7, 6, seed=6), randn(2, 3, 3, 3, seed=7), randn(2, seed=8)])
case("conv2d_strided_nopad", lambda x, w: F.conv2d(x, w, stride=2),
     [randn(2, 2, 6, 7, seed=9), randn(3, 2, 3, 3, seed=10)])
case("conv2d_grouped", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
     [randn(2, 4, 5, 5, seed=11), randn(6, 2, 3, 3, seed=12), randn(6, seed=13)])
case("conv2d_depthwise", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=3),
     [randn(2, 3, 6, 6, seed=14), randn(3, 1, 3, 3, seed=15), randn(3, seed=16)])
case("conv2d_depthwise_mult_strided", lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2),
     [randn(1, 2, 7, 7, seed=17), randn(4, 1, 3, 3, seed=18)])
case("conv2d_1x1_bias", lambda x, w, b: F.conv2d(x, w, b),
     [randn(2, 4, 3, 3, seed=19), randn(5, 4, 1, 1, seed=20), randn(5, seed=21)])
case("conv2d_1x1_single", lambda x, w: F.conv2d(x, w), [randn(1, 4, 4, 5, seed=22), randn(3, 4, 1, 1, seed=23)])
case("conv2d_1x1_strided", lambda x, w: F.conv2d(x, w, stride=2), [randn(1, 3, 5, 5, seed=24), randn(2, 3, 1, 1, seed=25)])
case("conv2d_rect_kernel", lambda x, w: F.conv2d(x, w, padding=1),
     [randn(2, 2, 4, 5, seed=26), randn(3, 2, 2, 3, seed=27)])
case("conv2d_patch4", lambda x, w, b: F.conv2d(x, w, b, stride=4),
     [randn(2, 3, 8, 8, seed=28), randn(4, 3, 4, 4, seed=29), randn(4, seed=30)])
case("conv2d_batch5", lambda x, w: F.conv2d(x, w, padding=1), [randn(5, 2, 4, 4, seed=31), randn(3, 2, 3, 3, seed=32)])
# 3x3 stride-1 convs with >= 16 channels take the Winograd F(4x4, 3x3) path; sizes that are not
# multiples of the 4x4 tile check the partial tiles at the right and bottom edges.
case("conv2d_winograd_pad1", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     [randn(2, 16, 6, 9, seed=33), randn(16, 16, 3, 3, seed=34), randn(16, seed=35)])
case("conv2d_winograd_pad0", lambda x, w: F.conv2d(x, w), [randn(1, 16, 7, 10, seed=36), randn(16, 16, 3, 3, seed=37)])

# convTranspose2d: x [N, C, H, W], weight [C, O/groups, kh, kw], bias [O]
case("conv_transpose2d_s2", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
     [randn(2, 3, 3, 3, seed=40), randn(3, 2, 3, 3, seed=41), randn(2, seed=42)])
case("conv_transpose2d_s2_pad", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
     [randn(1, 2, 4, 4, seed=43), randn(2, 3, 4, 4, seed=44)])
case("conv_transpose2d_s2_pad_outpad", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [randn(1, 2, 3, 3, seed=45), randn(2, 2, 3, 3, seed=46), randn(2, seed=47)])
case("conv_transpose2d_grouped", lambda x, w: F.conv_transpose2d(x, w, stride=2, groups=2),
     [randn(2, 4, 3, 3, seed=48), randn(4, 3, 3, 3, seed=49)])
case("conv_transpose2d_depthwise", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, groups=3),
     [randn(1, 3, 3, 3, seed=50), randn(3, 1, 3, 3, seed=51)])
case("conv_transpose2d_s1", lambda x, w: F.conv_transpose2d(x, w, stride=1, padding=1),
     [randn(1, 2, 4, 4, seed=52), randn(2, 3, 3, 3, seed=53)])


# upfirdn2d, as rosinality's upfirdn2d_native: zero-insert up-sampling, pad (negative crops),
# true convolution with the kernel (correlation with the flipped kernel), keep every down-th sample.
def upfirdn2d(x, kernel, up=1, down=1, pad=(0, 0)):
    n, c, h, w = x.shape
    p0, p1 = pad
    kh, kw = kernel.shape
    out = x.reshape(n * c, h, 1, w, 1)
    out = F.pad(out, [0, up - 1, 0, 0, 0, up - 1])
    out = out.reshape(n * c, 1, h * up, w * up)
    out = F.pad(out, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    out = out[:, :, max(-p0, 0):out.shape[2] - max(-p1, 0), max(-p0, 0):out.shape[3] - max(-p1, 0)]
    wk = torch.flip(kernel, [0, 1]).reshape(1, 1, kh, kw)
    out = F.conv2d(out, wk, stride=down)
    return out.reshape(n, c, out.shape[2], out.shape[3])


k1 = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)
blur = torch.outer(k1, k1)
blur = blur / blur.sum()
asym = randn(3, 3, seed=60)
case("upfirdn2d_blur", lambda x, k: upfirdn2d(x, k, pad=(2, 1)), [randn(1, 2, 6, 6, seed=61), blur], grad=[True, False])
case("upfirdn2d_asym_kernel", lambda x, k: upfirdn2d(x, k, pad=(1, 1)), [randn(1, 2, 5, 6, seed=62), asym], grad=[True, False])
case("upfirdn2d_up2", lambda x, k: upfirdn2d(x, k, up=2, pad=(2, 1)), [randn(1, 2, 3, 4, seed=63), blur * 4], grad=[True, False])
case("upfirdn2d_down2", lambda x, k: upfirdn2d(x, k, down=2, pad=(1, 1)), [randn(2, 1, 8, 8, seed=64), blur], grad=[True, False])
case("upfirdn2d_negpad", lambda x, k: upfirdn2d(x, k, up=2, pad=(-1, -2)), [randn(1, 2, 5, 5, seed=65), asym], grad=[True, False])
case("upfirdn2d_up2_down2", lambda x, k: upfirdn2d(x, k, up=2, down=2, pad=(1, 2)), [randn(1, 1, 5, 4, seed=66), asym], grad=[True, False])

# Pooling (PyTorch defaults: floor mode, avg pool counts the padding)
case("maxpool2d_3x3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1), [distinct(2, 2, 7, 7, seed=70)])
case("maxpool2d_3x3s2p1_even", lambda x: F.max_pool2d(x, 3, 2, 1), [distinct(1, 2, 8, 8, seed=71)])
case("maxpool2d_2x2", lambda x: F.max_pool2d(x, 2, 2), [distinct(2, 2, 6, 5, seed=72)])
case("avgpool2d_3x3s2p1", lambda x: F.avg_pool2d(x, 3, 2, 1), [randn(2, 2, 7, 7, seed=73)])
case("avgpool2d_2x2", lambda x: F.avg_pool2d(x, 2, 2), [randn(1, 3, 6, 6, seed=74)])
case("adaptive_avgpool2d_3x4", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [randn(2, 2, 7, 5, seed=75)])
case("adaptive_avgpool2d_up", lambda x: F.adaptive_avg_pool2d(x, (5, 3)), [randn(1, 2, 3, 2, seed=76)])
case("adaptive_avgpool2d_global", lambda x: F.adaptive_avg_pool2d(x, (1, 1)), [randn(2, 3, 4, 5, seed=77)])

# Resizing
case("resize_bilinear_ac", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
     [randn(1, 2, 4, 5, seed=80)])
case("resize_bilinear_ac_down", lambda x: F.interpolate(x, size=(3, 2), mode="bilinear", align_corners=True),
     [randn(2, 1, 6, 5, seed=81)])
case("resize_bilinear_noac", lambda x: F.interpolate(x, size=(7, 3), mode="bilinear", align_corners=False),
     [randn(1, 2, 4, 5, seed=82)])
case("resize_bilinear_noac_up2", lambda x: F.interpolate(x, size=(8, 8), mode="bilinear", align_corners=False),
     [randn(1, 2, 4, 4, seed=83)])
case("resize_bilinear_to1", lambda x: F.interpolate(x, size=(1, 3), mode="bilinear", align_corners=True),
     [randn(1, 1, 4, 4, seed=84)])
case("upsample_nearest_2x", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), [randn(2, 2, 3, 4, seed=85)])
case("upsample_nearest_3x", lambda x: F.interpolate(x, scale_factor=3, mode="nearest"), [randn(1, 2, 2, 3, seed=86)])
