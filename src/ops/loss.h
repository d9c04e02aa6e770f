// The language-model loss: tied head + final logit softcap + cross-entropy in one op, walking the
// vocabulary in chunks so the logits of a batch (1 GB per 1K tokens at Gemma's 262,400 words)
// are never held.
#pragma once

#include "core/tensor.h"

namespace vg {

enum class Reduction { None, Sum, Mean };

struct CrossEntropyOptions {
  double softcap = 0.0;         // Gemma 3n: 30
  int64_t ignore_index = -100;  // labels equal to this carry no loss
  Reduction reduction = Reduction::Mean;
  int64_t vocab_chunk = 4096;  // vocabulary entries per logits block
};

// hidden [..., D], weight [V, D], labels [...] (i32/i64) -> loss of
// cross_entropy(softcap(hidden @ weight^T), labels). Mean divides by the number of labels that
// are not ignore_index; with none it returns 0 (PyTorch would return NaN). None returns the
// per-position losses (0 where ignored). Gradients for hidden and weight.
Tensor softcap_cross_entropy(const Tensor& hidden, const Tensor& weight, const Tensor& labels,
                             const CrossEntropyOptions& options = {});

}  // namespace vg
