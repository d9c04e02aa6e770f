// Per-row mixtures of same-shaped tensors, the fused form of Gemma 3n's AltUp predict and
// correct: out_i = x_i + sum_j c[:, i * M + j] * y_j, with a coefficient per row and pair.
// Computed in f32 (bf16/f16 operands on cuda), rounded once.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cpu {

// x: N tensors and out: N tensors, y: M tensors, all [R, D] contiguous of one dtype; c [R, N * M]
// contiguous of that dtype. out may not alias y.
void add_mixed(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
               const std::vector<const Tensor*>& out);

// From the N output gradients g: gy_j = sum_i c[:, i * M + j] * g_i (M tensors [R, D], skipped
// when gy is empty) and gc[:, i * M + j] = sum_d g_i y_j ([R, N * M], skipped when null). The
// gradient of x_i is g_i itself.
void add_mixed_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                        const std::vector<const Tensor*>& gy, const Tensor* gc);

}  // namespace vg::cpu
