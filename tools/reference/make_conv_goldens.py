"""Goldens for the convolution and pooling ops (src/ops/conv.h, src/ops/pool.h).

Each case stores its inputs, torch.nn.functional's float64 output, a random upstream gradient
"gout" and autograd's input gradients "g<input>" (see golden_io.py). Run where torch is:

    cd tools/reference && python make_conv_goldens.py
writes tests/data/ops/conv.safetensors and tests/data/ops/pool.safetensors.
"""
import torch
import torch.nn.functional as F

from golden_io import Golden, randn
from make_op_goldens import case


def conv():
    g = Golden("ops/conv.safetensors")
    # CLIP-style patch embedding, scaled down: kernel = stride = 4, no padding.
    case(g, "conv2d_patch", lambda x, w, b: F.conv2d(x, w, b, stride=4),
         {"x": randn(2, 3, 8, 12, seed=1), "w": randn(5, 3, 4, 4, seed=2), "b": randn(5, seed=3)}, seed=100)
    case(g, "conv2d_general", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
         {"x": randn(2, 4, 5, 7, seed=4), "w": randn(6, 2, 3, 3, seed=5), "b": randn(6, seed=6)}, seed=101)
    case(g, "conv2d_rect_nobias", lambda x, w: F.conv2d(x, w, None, stride=(1, 2), padding=(0, 1)),
         {"x": randn(1, 3, 5, 6, seed=7), "w": randn(4, 3, 2, 3, seed=8)}, seed=102)
    case(g, "conv2d_pointwise", lambda x, w, b: F.conv2d(x, w, b),
         {"x": randn(2, 4, 3, 3, seed=9), "w": randn(6, 4, 1, 1, seed=10), "b": randn(6, seed=11)}, seed=103)
    # The ETP's positional conv: depthwise 3x3, padding 1, bias, on an odd grid.
    case(g, "conv2d_depthwise", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=3),
         {"x": randn(2, 3, 5, 7, seed=12), "w": randn(3, 1, 3, 3, seed=13), "b": randn(3, seed=14)}, seed=104)
    case(g, "conv2d_depthwise_stride2", lambda x, w: F.conv2d(x, w, None, stride=2, padding=(1, 0), groups=3),
         {"x": randn(1, 3, 6, 7, seed=15), "w": randn(3, 1, 3, 2, seed=16)}, seed=105)
    # VideoMamba's tubelet embedding, scaled down: kernel = stride = (1, 4, 4).
    case(g, "conv3d_tubelet", lambda x, w, b: F.conv3d(x, w, b, stride=(1, 4, 4)),
         {"x": randn(2, 3, 2, 4, 8, seed=17), "w": randn(4, 3, 1, 4, 4, seed=18), "b": randn(4, seed=19)}, seed=106)
    case(g, "conv3d_general", lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 2), padding=(1, 1, 0)),
         {"x": randn(2, 2, 3, 5, 4, seed=20), "w": randn(4, 2, 2, 3, 3, seed=21), "b": randn(4, seed=22)}, seed=107)
    case(g, "conv3d_depthwise", lambda x, w, b: F.conv3d(x, w, b, padding=1, groups=3),
         {"x": randn(1, 3, 3, 4, 5, seed=23), "w": randn(3, 1, 3, 3, 3, seed=24), "b": randn(3, seed=25)}, seed=108)
    g.save()


def pool():
    g = Golden("ops/pool.safetensors")
    x = randn(1, 2, 9, 7, seed=30)
    case(g, "avg_pool_default", lambda t: F.avg_pool2d(t, 2), {"x": randn(1, 2, 8, 6, seed=31)}, seed=200)
    case(g, "avg_pool_pad_incl", lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=True), {"x": x}, seed=201)
    case(g, "avg_pool_pad_excl", lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), {"x": x}, seed=202)
    case(g, "avg_pool_ceil", lambda t: F.avg_pool2d(t, 3, 2, 0, ceil_mode=True), {"x": randn(1, 2, 7, 8, seed=32)},
         seed=203)
    # Ceil mode with padding: the last window runs past the right padding (its divisor counts
    # only up to the padding's end).
    xc = randn(1, 2, 6, 5, seed=33)
    case(g, "avg_pool_ceil_pad_incl", lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=True),
         {"x": xc}, seed=204)
    case(g, "avg_pool_ceil_pad_excl", lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
         {"x": xc}, seed=205)
    # Ceil mode where a candidate last window would start in the right padding and is dropped
    # (rows: 5 + 2 padding, kernel 2, stride 4 -> 2 windows, not 3).
    case(g, "avg_pool_ceil_drop", lambda t: F.avg_pool2d(t, (2, 3), (4, 3), 1, ceil_mode=True),
         {"x": randn(1, 2, 5, 9, seed=40)}, seed=213)
    case(g, "avg_pool_unbatched_rect", lambda t: F.avg_pool2d(t, (2, 3), (1, 2), (1, 0)),
         {"x": randn(3, 6, 7, seed=34)}, seed=206)
    # The ETP's pools: 14x14 -> 12x12 (images, overlapping windows) and -> 7x7 (video).
    x14 = randn(1, 1, 14, 14, seed=35)
    case(g, "adaptive_14_12", lambda t: F.adaptive_avg_pool2d(t, 12), {"x": x14}, seed=207)
    case(g, "adaptive_14_7", lambda t: F.adaptive_avg_pool2d(t, 7), {"x": x14}, seed=208)
    case(g, "adaptive_5_3", lambda t: F.adaptive_avg_pool2d(t, 3), {"x": randn(1, 2, 5, 5, seed=36)}, seed=209)
    case(g, "adaptive_7_4", lambda t: F.adaptive_avg_pool2d(t, 4), {"x": randn(1, 2, 7, 7, seed=37)}, seed=210)
    case(g, "adaptive_rect", lambda t: F.adaptive_avg_pool2d(t, (3, 4)), {"x": randn(1, 2, 5, 7, seed=38)}, seed=211)
    case(g, "adaptive_upsample", lambda t: F.adaptive_avg_pool2d(t, (5, 4)), {"x": randn(3, 3, 4, seed=39)},
         seed=212)
    g.save()


if __name__ == "__main__":
    torch.manual_seed(0)
    conv()
    pool()
