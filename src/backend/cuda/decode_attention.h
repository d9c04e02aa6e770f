// Attention for one query row per head (a decode step), split over the keys: the
// flash-decoding schedule. A step has B * Hkv head groups, too few blocks to fill a GPU if each
// walked all its keys alone, so blocks take slices of 16 keys for a whole group of query heads
// and a second kernel merges the slices' softmax statistics. The CPU's contract
// (backend/cpu/attention.h); attention.cu asks `supports` first.
#pragma once

#include "backend/cuda/attention_common.cuh"

namespace vg::cuda::decode {

// True for Lq == 1, D == Dv in {32, 64, 128, 256}, at most 8 query heads per kv head, at most
// 65,536 keys, and f32/bf16/f16 operands.
bool supports(const Geometry& g, DType dtype);

void forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
             const Tensor& out, const Tensor& lse);

}  // namespace vg::cuda::decode
