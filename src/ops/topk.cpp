#include "ops/topk.h"

#include "autograd/function.h"
#include "backend/cpu/topk.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/dispatch.h"
#include "ops/indexing.h"

namespace vg {

using autograd::Grads;

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim, bool largest) {
  ops::check_defined("topk", {&x});
  ops::check_floating("topk", x);
  VG_CHECK(x.rank() >= 1, "topk", "needs rank >= 1, got ", x.describe());
  dim = normalize_dim(dim, x.rank(), "topk");
  VG_CHECK(k >= 0 && k <= x.size(dim), "topk", "k = ", k, " is outside [0, ", x.size(dim), "] for dim ", dim, " of ",
           x.describe());
  // Select along the last dim, then move the dim back.
  Tensor moved = x.transpose(dim, -1).contiguous();
  Shape shape = moved.shape();
  shape[shape.rank() - 1] = k;
  Tensor values = Tensor::empty(shape, x.dtype(), x.device());
  Tensor indices = Tensor::empty(shape, DType::I64, x.device());
  if (values.numel() > 0) VG_CUDA_OR_CPU(x.device(), topk_rows(moved, k, largest, values, indices));
  values = values.transpose(dim, -1).contiguous();
  indices = indices.transpose(dim, -1).contiguous();
  if (autograd::needs_grad(x)) {
    const Shape in_shape = x.shape();
    Tensor idx = indices;
    autograd::record("topk", {x}, {&values}, [=](const Grads& g) {
      return Grads{scatter_add(zeros(in_shape, g[0].dtype(), g[0].device()), dim, idx, g[0])};
    });
  }
  return {values, indices};
}

}  // namespace vg
