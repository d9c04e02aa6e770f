#include "backend/cpu/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "backend/cpu/loops.h"

namespace vg::cpu {
namespace {

template <class T>
void select_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices) {
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

void topk_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices) {
  dispatch_float(x.dtype(), "topk", [&](auto tag) { select_rows<decltype(tag)>(x, k, largest, values, indices); });
}

}  // namespace vg::cpu
