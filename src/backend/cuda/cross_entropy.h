// Fused language-model head + softcap + cross-entropy on the GPU, with the contract of its CPU
// twin (backend/cpu/cross_entropy.h): the vocabulary is walked in chunks (and the rows in tiles
// when a chunk's f32 logits would pass 256 MiB), so the [N, V] logits never exist. h and w are
// f32, bf16 or f16; lse and row_scale are f32 (accumulation_dtype), as the attention lse.
// Plain C++: included by every build, defined only by CUDA builds (cross_entropy.cu).
#pragma once

#include <vector>

#include "backend/cpu/cross_entropy.h"
#include "core/tensor.h"

namespace vg::cuda {

using cpu::CrossEntropyShape;

// h [N, D] (N >= 1), w [V, D] contiguous on one GPU; labels[N] on the host (validated by the caller:
// in [0, V) or ignore_index). Writes loss_rows [N] (h's dtype, 0 for ignored rows) and lse [N].
void cross_entropy_forward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                           const CrossEntropyShape& shape, const Tensor& loss_rows, const Tensor& lse);

// row_scale [N]: dL/dloss_row (0 for ignored rows). Writes gh [N, D] and/or gw [V, D] (either
// may be null).
void cross_entropy_backward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                            const CrossEntropyShape& shape, const Tensor& lse, const Tensor& row_scale,
                            const Tensor* gh, const Tensor* gw);

}  // namespace vg::cuda
