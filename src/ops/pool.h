// Average pooling with PyTorch semantics (F.avg_pool2d, F.adaptive_avg_pool2d): the ETP
// projector pools its 14x14 token grid to 12x12 (images) or 7x7 (video).
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace vg {

// x [B, C, H, W] (or [C, H, W]) -> [..., Ho, Wo]. stride {0, 0} means stride = kernel. Output
// size as PyTorch: floor((H + 2 pad - k) / s) + 1, or ceil with ceil_mode, where a last window
// that would start beyond the input and left padding is dropped. Padding must be <= kernel / 2.
// count_include_pad divides by the window size clipped to the padded input, else by the number
// of real input elements in the window.
Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0}, bool ceil_mode = false, bool count_include_pad = true);

// x [B, C, H, W] (or [C, H, W]) -> [..., oh, ow]; output i averages input
// [floor(i * In / Out), ceil((i + 1) * In / Out)) along each axis (PyTorch's adaptive rule).
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);

}  // namespace vg
