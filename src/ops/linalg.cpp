#include "ops/linalg.h"

#include "autograd/function.h"
#include "backend/cpu/gemm.h"
#include "ops/checks.h"
#include "ops/dispatch.h"
#include "ops/reduce.h"

namespace vg {
namespace {

using autograd::Grads;

// BLAS reads either strided layout of a matrix; anything else is copied first.
Tensor blas_ready(const Tensor& t) {
  const bool row_major = t.stride(-1) == 1 || t.size(-1) == 1;
  const bool col_major = t.stride(-2) == 1 || t.size(-2) == 1;
  return row_major || col_major ? t : t.contiguous();
}

Tensor matmul_2d_or_batched(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), k2 = b.size(-2), n = b.size(-1);
  VG_CHECK(k == k2, "matmul", "inner dims differ: ", a.describe(), " @ ", b.describe());
  Shape batch_a, batch_b;
  for (int d = 0; d < a.rank() - 2; ++d) batch_a.push_back(a.size(d));
  for (int d = 0; d < b.rank() - 2; ++d) batch_b.push_back(b.size(d));
  Shape shape = broadcast_shapes(batch_a, batch_b, "matmul");
  shape.push_back(m);
  shape.push_back(n);
  Tensor ar = blas_ready(a), br = blas_ready(b);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  VG_CUDA_OR_CPU(out.device(), matmul(ar, br, out));
  if (autograd::needs_grad(ar, br)) {
    const bool need_a = ar.requires_grad(), need_b = br.requires_grad();
    Tensor ad = ar.detach(), bd = br.detach();
    const Shape sa = a.shape(), sb = b.shape();
    autograd::record("matmul", {ar, br}, {&out}, [=](const Grads& g) {
      Tensor ga, gb;
      if (need_a) ga = sum_to(matmul(g[0], bd.transpose(-1, -2)), sa);
      if (need_b) {
        if (bd.rank() == 2 && ad.rank() > 2) {
          // Fold a's batch dims into rows: one GEMM instead of a batch of them summed.
          Tensor a2 = ad.reshape({-1, ad.size(-1)});
          Tensor g2 = g[0].reshape({-1, g[0].size(-1)});
          gb = matmul(a2.transpose(0, 1), g2);
        } else {
          gb = sum_to(matmul(ad.transpose(-1, -2), g[0]), sb);
        }
      }
      return Grads{ga, gb};
    });
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  ops::check_defined("matmul", {&a, &b});
  ops::check_same_device("matmul", {&a, &b});
  ops::check_same_dtype("matmul", {&a, &b});
  ops::check_floating("matmul", a);
  VG_CHECK(a.rank() >= 1 && b.rank() >= 1, "matmul", "operands need rank >= 1: ", a.describe(), " @ ", b.describe());
  if (a.rank() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.rank() == 1) return matmul(a, b.unsqueeze(-1)).squeeze(-1);
  return matmul_2d_or_batched(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_defined("linear", {&x, &weight});
  ops::check_same_device("linear", {&x, &weight, &bias});
  ops::check_same_dtype("linear", {&x, &weight, &bias});
  ops::check_floating("linear", x);
  ops::check_rank("linear", weight, 2, "the weight");
  VG_CHECK(x.rank() >= 1 && x.size(-1) == weight.size(1), "linear", "input ", x.describe(),
           " does not match the weight ", weight.describe(), " ([out, in])");
  if (bias.defined()) {
    VG_CHECK(bias.rank() == 1 && bias.size(0) == weight.size(0), "linear", "bias ", bias.describe(),
             " does not match the weight ", weight.describe());
  }
  const int64_t in = weight.size(1), out_features = weight.size(0);
  Tensor x2 = x.contiguous().reshape({-1, in});
  Tensor w = weight.contiguous();
  Tensor b = bias.defined() ? bias.contiguous() : bias;
  Tensor out2 = Tensor::empty({x2.size(0), out_features}, x.dtype(), x.device());
  VG_CUDA_OR_CPU(out2.device(), linear(x2, w, b.defined() ? &b : nullptr, out2));
  if (autograd::needs_grad(x2, w, b)) {
    const bool need_x = x2.requires_grad(), need_w = w.requires_grad(), need_b = b.defined() && b.requires_grad();
    Tensor xd = need_w ? x2.detach() : Tensor();
    Tensor wd = need_x ? w.detach() : Tensor();
    autograd::record("linear", {x2, w, b}, {&out2}, [=](const Grads& g) {
      Tensor gx = need_x ? matmul(g[0], wd) : Tensor();                  // [M, N] @ [N, K]
      Tensor gw = need_w ? matmul(g[0].transpose(0, 1), xd) : Tensor();  // [N, M] @ [M, K]
      Tensor gb = need_b ? sum(g[0], 0) : Tensor();
      return Grads{gx, gw, gb};
    });
  }
  Shape shape = x.shape();
  shape[shape.rank() - 1] = out_features;
  return out2.reshape(shape);
}

}  // namespace vg
