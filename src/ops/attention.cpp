#include "ops/attention.h"

#include <cmath>

#include "autograd/function.h"
#include "backend/cpu/attention.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {
namespace {

using autograd::Grads;

constexpr const char* kOp = "scaled_dot_product_attention";

// The kernel reads rows of the last dim with BLAS: unit stride there and a row stride that covers
// the row. Transposed head/sequence views qualify as they are; anything else is copied.
Tensor blas_ready(const Tensor& t) {
  const bool ok = (t.size(3) <= 1 || t.stride(3) == 1) && (t.size(2) <= 1 || t.stride(2) >= t.size(3));
  return ok ? t : t.contiguous();
}

// An empty [B, H, L, D] tensor laid out in memory like t: heads-inner ([B, L, H, D] transposed)
// when t is such a view, so that gradients flow back to the projections without a copy.
Tensor empty_in_layout_of(const Tensor& t) {
  if (t.size(1) > 1 && t.size(2) > 1 && t.stride(1) < t.stride(2)) {
    return Tensor::empty({t.size(0), t.size(2), t.size(1), t.size(3)}, t.dtype(), t.device()).transpose(1, 2);
  }
  return Tensor::empty(t.shape(), t.dtype(), t.device());
}

void check_mask(const Tensor& mask, const Tensor& q, const Shape& full) {
  const DType dt = mask.dtype();
  VG_CHECK(dt == DType::Bool || dt == DType::U8 || dt == q.dtype(), kOp, "mask ", mask.describe(),
           " must be bool/u8 (may attend) or an additive mask of q's dtype ", q.dtype());
  bool fits = mask.rank() <= 4;
  for (int i = 1; fits && i <= mask.rank(); ++i) fits = mask.size(-i) == 1 || mask.size(-i) == full[4 - i];
  VG_CHECK(fits, kOp, "mask ", mask.describe(), " does not broadcast to the scores [B, Hq, Lq, Lk] = ", full);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& options,
                                    const Tensor& mask) {
  ops::check_defined(kOp, {&q, &k, &v});
  ops::check_floating(kOp, q);
  ops::check_same_dtype(kOp, {&q, &k, &v});
  ops::check_same_device(kOp, {&q, &k, &v, &mask});
  ops::check_rank(kOp, q, 4, "q [B, Hq, Lq, D]");
  ops::check_rank(kOp, k, 4, "k [B, Hkv, Lk, D]");
  ops::check_rank(kOp, v, 4, "v [B, Hkv, Lk, Dv]");
  const int64_t B = q.size(0), Hq = q.size(1), Lq = q.size(2), D = q.size(3);
  const int64_t Hkv = k.size(1), Lk = k.size(2), Dv = v.size(3);
  VG_CHECK(k.size(0) == B && v.size(0) == B, kOp, "batch sizes differ: q ", q.describe(), ", k ", k.describe(), ", v ",
           v.describe());
  VG_CHECK(v.size(1) == Hkv && v.size(2) == Lk, kOp, "k ", k.describe(), " and v ", v.describe(),
           " must have the same heads and length");
  VG_CHECK(Hkv > 0 && Hq % Hkv == 0, kOp, "query heads must be a multiple of kv heads: q ", q.describe(), ", k ",
           k.describe());
  VG_CHECK(k.size(3) == D, kOp, "head dims differ: q ", q.describe(), ", k ", k.describe());
  VG_CHECK(D > 0 && Dv > 0, kOp, "head dims must be positive: q ", q.describe(), ", v ", v.describe());
  VG_CHECK(options.window >= 0, kOp, "window must be >= 0 (0 = no limit), got ", options.window);
  VG_CHECK(options.query_offset >= -1, kOp, "query_offset must be >= 0 (or -1 for Lk - Lq), got ",
           options.query_offset);
  VG_CHECK(!options.scale || std::isfinite(*options.scale), kOp, "scale must be finite, got ", *options.scale);
  const Shape full{B, Hq, Lq, Lk};
  if (mask.defined()) check_mask(mask, q, full);

  cpu::AttentionParams params;
  params.causal = options.causal;
  params.window = options.window;
  params.scale = options.scale ? *options.scale : 1.0 / std::sqrt(static_cast<double>(D));
  params.query_offset = options.query_offset >= 0 ? options.query_offset : Lk - Lq;

  Tensor qc = blas_ready(q), kc = blas_ready(k), vc = blas_ready(v);
  // out: memory [B, Lq, Hq, Dv], returned as the [B, Hq, Lq, Dv] view; lse: [B, Hq, Lq]
  Tensor out = Tensor::empty({B, Lq, Hq, Dv}, q.dtype(), q.device()).transpose(1, 2);
  Tensor lse = Tensor::empty({B, Hq, Lq}, accumulation_dtype(q.dtype()), q.device());
  VG_CUDA_OR_CPU(out.device(), attention_forward(qc, kc, vc, mask.defined() ? &mask : nullptr, params, out, lse));

  if (autograd::needs_grad(qc, kc, vc)) {
    const bool need_q = qc.requires_grad(), need_k = kc.requires_grad(), need_v = vc.requires_grad();
    Tensor qd = qc.detach(), kd = kc.detach(), vd = vc.detach(), od = out.detach();
    Tensor md = mask.defined() ? mask.detach() : Tensor();
    autograd::record(kOp, {qc, kc, vc}, {&out}, [=](const Grads& g) {
      Tensor go = blas_ready(g[0]);
      Tensor gq = need_q ? empty_in_layout_of(qd) : Tensor();
      Tensor gk = need_k ? empty_in_layout_of(kd) : Tensor();
      Tensor gv = need_v ? empty_in_layout_of(vd) : Tensor();
      VG_CUDA_OR_CPU(qd.device(), attention_backward(qd, kd, vd, md.defined() ? &md : nullptr, params, od, lse, go,
                                                     need_q ? &gq : nullptr, need_k ? &gk : nullptr,
                                                     need_v ? &gv : nullptr));
      return Grads{gq, gk, gv};
    });
  }
  return out;
}

}  // namespace vg
