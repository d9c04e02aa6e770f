#include "ops/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/function.h"
#include "backend/cpu/loops.h"
#include "ops/checks.h"
#include "ops/creation.h"
#include "ops/indexing.h"

namespace vg {
namespace {

using autograd::Grads;

// Row-wise selection over the last dim of contiguous x [rows, n].
template <class T>
void topk_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices) {
  const int64_t n = x.size(-1), rows = x.numel() / std::max<int64_t>(1, n);
  const T* xp = x.data<T>();
  T* vp = values.data<T>();
  int64_t* ip = indices.data<int64_t>();
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, n)), [&](int64_t begin, int64_t end) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; ++r) {
      const T* row = xp + r * n;
      std::iota(order.begin(), order.end(), 0);
      // Strict weak order: NaN first (largest), then by value, ties by position.
      auto before = [&](int64_t a, int64_t b) {
        const T va = row[a], vb = row[b];
        const bool na = std::isnan(va), nb = std::isnan(vb);
        if (na || nb) {
          if (na && nb) return a < b;
          return largest ? na : nb;
        }
        if (va != vb) return largest ? va > vb : va < vb;
        return a < b;
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        ip[r * k + j] = order[static_cast<size_t>(j)];
        vp[r * k + j] = row[order[static_cast<size_t>(j)]];
      }
    }
  });
}

}  // namespace

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim, bool largest) {
  ops::check_defined("topk", {&x});
  ops::check_floating("topk", x);
  ops::check_cpu("topk", {&x});
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
  cpu::dispatch_float(x.dtype(), "topk",
                      [&](auto tag) { topk_rows<decltype(tag)>(moved, k, largest, values, indices); });
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
