// Rotary position embedding as Gemma 3n (HF transformers) applies it: the NeoX "rotate_half"
// layout over the whole head dim, tables built in f32 exactly as HF builds them.
#pragma once

#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace vg {

// y = x * cos + rotate_half(x) * sin over the last dim D (even), rotate_half(x) = cat(-x[D/2:], x[:D/2]).
// cos and sin (same shape, x's dtype and device) broadcast to x and end in D: [T, D] against
// x [B, H, T, D], or [T, 1, D] against [B, T, H, D]. x may be any view. The gradient flows to x only
// (the tables are constants of the positions).
Tensor apply_rope(const Tensor& x, const Tensor& cos, const Tensor& sin);

// cos/sin tables [T, D] for positions (i32/i64, shape [T]) and head dim D (even):
// inv_freq[i] = theta^(-2i/D) (i < D/2), ang = pos * inv_freq, emb = cat(ang, ang).
// F32 reproduces HF's f32 arithmetic (inv_freq = 1 / (theta ** (arange(0, D, 2).float() / D)), the
// product and cos/sin in f32), so it matches transformers to ~1e-6. F64 computes in double; bf16 and
// f16 tables are the f32 tables rounded.
std::pair<Tensor, Tensor> rope_tables(const Tensor& positions, int64_t head_dim, double theta,
                                      DType dtype = DType::F32);

}  // namespace vg
