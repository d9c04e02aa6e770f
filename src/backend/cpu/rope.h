// CPU rotary position embedding (HF "rotate_half" / NeoX layout) and its tables.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace vg::cpu {

// out = x * cos + rotate_half(x) * sin over the last dim D of a contiguous x, with
// rotate_half(x) = cat(-x[D/2:], x[:D/2]). cos and sin have x's rank and broadcast to it (size 1
// or equal per dim, any strides). With `transpose` it applies the inverse rotation used by the
// backward: out = x * cos - rotate_half(x * sin). out is contiguous with x's shape.
void rope(const Tensor& x, const Tensor& cos, const Tensor& sin, const Tensor& out, bool transpose);

// HF's f32 inverse frequencies 1 / theta^(2i / D), i < D/2, each step rounded to f32 (shared with
// the CUDA tables so both devices use the same bits).
std::vector<float> rope_inverse_frequencies(int64_t head_dim, double theta);

// cos/sin tables [T, D] (contiguous, f32 or f64) for the given positions. F32 follows HF's f32
// arithmetic step by step; F64 computes everything in double.
void rope_tables(const std::vector<int64_t>& positions, int64_t head_dim, double theta, const Tensor& cos,
                 const Tensor& sin);

}  // namespace vg::cpu
