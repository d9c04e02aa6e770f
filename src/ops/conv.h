// Convolutions with PyTorch semantics (F.conv2d, F.conv3d; no dilation): CLIP's and
// VideoMamba's patch embeddings and the ETP projector's depthwise 3x3 positional conv.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace vg {

// x [B, C, H, W] (or unbatched [C, H, W]), weight [O, C/groups, kh, kw], bias [O] or undefined
// -> [B, O, Ho, Wo], Ho = (H + 2 pad_h - kh) / stride_h + 1 (floor), likewise Wo.
// Gradients flow to x, weight and bias.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              std::array<int64_t, 2> stride = {1, 1}, std::array<int64_t, 2> padding = {0, 0}, int64_t groups = 1);

// x [B, C, T, H, W] (or unbatched [C, T, H, W]), weight [O, C/groups, kt, kh, kw], bias [O] or
// undefined -> [B, O, To, Ho, Wo] (VideoMamba's tubelet patch embedding: kernel = stride = (1, 16, 16)).
Tensor conv3d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              std::array<int64_t, 3> stride = {1, 1, 1}, std::array<int64_t, 3> padding = {0, 0, 0},
              int64_t groups = 1);

}  // namespace vg
