// CPU scaled dot-product attention, tiled (flash-attention style): the [Lq, Lk] score matrix of a
// head is never built; query tiles meet key blocks in small per-thread buffers, softmax is online
// (running max and sum), and the backward recomputes probabilities from the saved logsumexp.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

struct AttentionParams {
  bool causal = false;
  int64_t window = 0;  // query at position p sees key j iff p - j < window; 0: no limit
  double scale = 1.0;
  int64_t query_offset = 0;  // absolute position of query row 0 (resolved, never -1)
};

// Operand layout: q [B, Hq, Lq, D], k [B, Hkv, Lk, D], v [B, Hkv, Lk, Dv], out [B, Hq, Lq, Dv] are
// rank-4 views of any strides in dims 0-2, with unit stride in the last dim and a row stride (dim 2)
// of at least the last extent (what BLAS needs), e.g. [B, L, H, D] memory transposed to [B, H, L, D].
// Query head h reads kv head h / (Hq / Hkv). mask (may be null) is bool/u8 ("may attend") or an
// additive mask of q's dtype, broadcastable to [B, Hq, Lq, Lk], any strides.
// lse [B, Hq, Lq] (contiguous) receives each row's logsumexp of the scaled, masked scores, or -inf
// for a row that sees no key (its output row is zero).
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                       const AttentionParams& params, const Tensor& out, const Tensor& lse);

// Gradients from dout (out's shape and layout rules) into dq, dk, dv (each may be null when not
// needed; same layout rules as q, k, v); the kernel overwrites them. For GQA, dk and dv sum over
// the query heads of each kv head.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                        const AttentionParams& params, const Tensor& out, const Tensor& lse, const Tensor& dout,
                        const Tensor* dq, const Tensor* dk, const Tensor* dv);

}  // namespace vg::cpu
