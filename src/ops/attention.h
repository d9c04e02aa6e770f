// Scaled dot-product attention as the Gemma 3n and CLIP layers use it: grouped-query heads,
// causal and sliding-window masks, an optional user mask, and rows that see nothing output zeros.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"

namespace vg {

struct AttentionOptions {
  bool causal = false;
  // Sliding window: the query at absolute position p sees key j iff p - j < window; 0 = no limit.
  int64_t window = 0;
  // Default 1/sqrt(head_dim); Gemma 3n passes 1.0.
  std::optional<double> scale;
  // Absolute position of query row 0; -1 means Lk - Lq (the queries are the last Lq positions).
  int64_t query_offset = -1;
};

// q [B, Hq, Lq, D], k [B, Hkv, Lk, D], v [B, Hkv, Lk, Dv] -> [B, Hq, Lq, Dv].
// softmax(q k^T * scale + mask) v per head; Hq % Hkv == 0 and query head h reads kv head h / (Hq / Hkv).
// Causal: key j is visible to the query at position p iff j <= p. `mask` (optional) is bool/u8
// ("may attend") or an additive mask of q's dtype, broadcastable to [B, Hq, Lq, Lk]; an additive -inf
// hides a key. A query row with no visible key outputs zeros (and gets zero gradient). Inputs may be
// any views (the models pass q as xq.view(B, T, H, D).transpose(1, 2), which is used without a copy).
// The result is laid out in memory as [B, Lq, Hq, Dv] and returned transposed, so that the usual
// .transpose(1, 2).reshape(B, Lq, Hq * Dv) that follows is free. Gradients for q, k and v (not the mask).
// The [Lq, Lk] scores are never materialised: see backend/cpu/attention.h.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options = {}, const Tensor& mask = Tensor());

}  // namespace vg
