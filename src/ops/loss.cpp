#include "ops/loss.h"

#include "autograd/function.h"
#include "backend/cpu/cross_entropy.h"
#include "backend/cpu/indexing.h"
#include "backend/cuda/cross_entropy.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace vg {

using autograd::Grads;

Tensor softcap_cross_entropy(const Tensor& hidden, const Tensor& weight, const Tensor& labels,
                             const CrossEntropyOptions& options) {
  const char* op = "softcap_cross_entropy";
  ops::check_defined(op, {&hidden, &weight, &labels});
  ops::check_same_device(op, {&hidden, &weight, &labels});
  ops::check_same_dtype(op, {&hidden, &weight});
  ops::check_floating(op, hidden);
  ops::check_rank(op, weight, 2, "the weight");
  VG_CHECK(hidden.rank() >= 1 && hidden.size(-1) == weight.size(1), op, "hidden ", hidden.describe(),
           " does not match the weight ", weight.describe(), " ([vocab, hidden])");
  Shape row_shape = hidden.shape();
  row_shape.erase(row_shape.rank() - 1);
  VG_CHECK(labels.shape() == row_shape, op, "labels ", labels.describe(), " must have shape ", row_shape,
           " to match hidden ", hidden.describe());
  VG_CHECK(options.softcap >= 0 && options.vocab_chunk > 0, op, "softcap must be >= 0 and vocab_chunk > 0");

  const int64_t vocab = weight.size(0), d = weight.size(1);
  VG_CHECK(vocab > 0, op, "the vocabulary is empty");
  Tensor h = hidden.contiguous().reshape({-1, d});
  Tensor w = weight.contiguous();
  // Labels are range-checked (and row scales built) on the host; the kernels get them from here.
  const std::vector<int64_t> ids = cpu::read_indices(labels.to(Device::cpu()).contiguous());
  int64_t valid = 0;
  for (int64_t id : ids) {
    if (id == options.ignore_index) continue;
    VG_CHECK(id >= 0 && id < vocab, op, "label ", id, " is outside the vocabulary [0, ", vocab, ")");
    ++valid;
  }
  const cpu::CrossEntropyShape shape{options.softcap, options.vocab_chunk, options.ignore_index};
  const int64_t n = h.size(0);
  Tensor loss_rows = Tensor::empty({n}, h.dtype(), h.device());
  Tensor lse = Tensor::empty({n}, accumulation_dtype(h.dtype()), h.device());
  // No rows (an empty batch): no loss and no gradient; the kernels need at least one row.
  if (n > 0) VG_CUDA_OR_CPU(h.device(), cross_entropy_forward(h, w, ids, shape, loss_rows, lse));

  Tensor out;
  const Reduction reduction = options.reduction;
  const double denom = static_cast<double>(std::max<int64_t>(valid, 1));
  {
    autograd::NoGradGuard no_grad;
    if (reduction == Reduction::None) out = loss_rows.reshape(row_shape);
    if (reduction == Reduction::Sum) out = sum(loss_rows);
    if (reduction == Reduction::Mean) out = mul(sum(loss_rows), 1.0 / denom);
  }
  if (autograd::needs_grad(h, w)) {
    out = out.detach();  // a fresh handle: loss_rows may be viewed by `out` for None
    const bool need_h = h.requires_grad(), need_w = w.requires_grad();
    Tensor hd = h.detach(), wd = w.detach();
    autograd::record(op, {h, w}, {&out}, [=](const Grads& g) {
      if (n == 0) return Grads{need_h ? zeros_like(hd) : Tensor(), need_w ? zeros_like(wd) : Tensor()};
      // Row scales: dL/dloss_row, zero where the label is ignored.
      std::vector<double> scale(static_cast<size_t>(n));
      std::vector<double> gv = g[0].to_vector<double>();
      for (int64_t i = 0; i < n; ++i) {
        const bool ignored = ids[static_cast<size_t>(i)] == options.ignore_index;
        const double base = reduction == Reduction::None  ? gv[static_cast<size_t>(i)]
                            : reduction == Reduction::Sum ? gv[0]
                                                          : gv[0] / denom;
        scale[static_cast<size_t>(i)] = ignored ? 0.0 : base;
      }
      Tensor row_scale = Tensor::from_vector(scale, {n}).to(accumulation_dtype(hd.dtype())).to(hd.device());
      Tensor gh = need_h ? Tensor::empty(hd.shape(), hd.dtype(), hd.device()) : Tensor();
      Tensor gw = need_w ? Tensor::empty(wd.shape(), wd.dtype(), wd.device()) : Tensor();
      VG_CUDA_OR_CPU(hd.device(), cross_entropy_backward(hd, wd, ids, shape, lse, row_scale, need_h ? &gh : nullptr,
                                                         need_w ? &gw : nullptr));
      return Grads{gh, gw};
    });
  }
  return out;
}

}  // namespace vg
