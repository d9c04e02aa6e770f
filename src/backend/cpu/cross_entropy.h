// Fused language-model head + softcap + cross-entropy on the CPU. Logits are produced in
// (row tile x vocabulary chunk) blocks, consumed, and dropped: the [N, V] matrix never exists.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cpu {

struct CrossEntropyShape {
  double softcap = 0.0;  // 0: none; else logits = cap * tanh(logits / cap)
  int64_t vocab_chunk = 4096;
  int64_t ignore_index = -100;
};

// h [N, D] (N >= 1), w [V, D] contiguous; labels[N]. Writes loss_rows [N] (0 for ignored rows) and the
// log-sum-exp of each row's (capped) logits, lse [N], for the backward.
void cross_entropy_forward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                           const CrossEntropyShape& shape, const Tensor& loss_rows, const Tensor& lse);

// row_scale [N]: dL/dloss_row (0 for ignored rows). Writes gh [N, D] and/or gw [V, D] (either
// may be null).
void cross_entropy_backward(const Tensor& h, const Tensor& w, const std::vector<int64_t>& labels,
                            const CrossEntropyShape& shape, const Tensor& lse, const Tensor& row_scale,
                            const Tensor* gh, const Tensor* gw);

}  // namespace vg::cpu
