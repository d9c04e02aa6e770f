#include "backend/cpu/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/loops.h"
#include "backend/dim_split.h"

namespace vg::cpu {
namespace {

template <class T>
void reduce_typed(ReduceOp op, const Tensor& x, int dim, const Tensor& out, const Tensor* indices) {
  VG_ASSERT(x.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  const T* src = x.data<T>();
  T* dst = out.data<T>();
  int64_t* idx = indices ? indices->data<int64_t>() : nullptr;
  const bool extreme = op == ReduceOp::Max || op == ReduceOp::Min;
  VG_CHECK(!extreme || g.extent > 0, "reduce", "max/min over an empty dim");
  if (!extreme && g.inner > 1) {
    // Sum down a column block: rows of `inner` are read contiguously.
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (g.inner + kBlock - 1) / kBlock;
    parallel_for(g.outer * blocks, 1, [&](int64_t begin, int64_t end) {
      double acc[kBlock];
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / blocks, i0 = (task % blocks) * kBlock, n = std::min(kBlock, g.inner - i0);
        std::fill(acc, acc + n, 0.0);
        for (int64_t r = 0; r < g.extent; ++r) {
          const T* p = src + (o * g.extent + r) * g.inner + i0;
          for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(p[i]);
        }
        const double scale = op == ReduceOp::Mean ? 1.0 / static_cast<double>(g.extent) : 1.0;
        for (int64_t i = 0; i < n; ++i) dst[o * g.inner + i0 + i] = static_cast<T>(acc[i] * scale);
      }
    });
    return;
  }
  const int64_t rows = g.outer * g.inner;
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.extent)), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / g.inner, i = row % g.inner;
      const T* p = src + o * g.extent * g.inner + i;
      if (extreme) {
        T best = p[0];
        int64_t best_at = 0;
        for (int64_t r = 1; r < g.extent; ++r) {
          T v = p[r * g.inner];
          bool better = op == ReduceOp::Max ? (v > best) : (v < best);
          if (better || (v != v && best == best)) {  // NaN wins, as in PyTorch
            best = v;
            best_at = r;
          }
        }
        dst[row] = best;
        if (idx) idx[row] = best_at;
      } else {
        double acc = 0.0;  // double accumulation keeps f32 sums close to the exact value
        for (int64_t r = 0; r < g.extent; ++r) acc += static_cast<double>(p[r * g.inner]);
        if (op == ReduceOp::Mean) acc /= static_cast<double>(g.extent);
        dst[row] = static_cast<T>(acc);
      }
    }
  });
}

template <class T>
void variance_typed(const Tensor& x, int dim, int64_t correction, const Tensor& out) {
  VG_ASSERT(x.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  const T* src = x.data<T>();
  T* dst = out.data<T>();
  const double denom = static_cast<double>(g.extent - correction);
  parallel_for(g.outer * g.inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, g.extent)),
               [&](int64_t begin, int64_t end) {
                 for (int64_t row = begin; row < end; ++row) {
                   const T* p = src + (row / g.inner) * g.extent * g.inner + row % g.inner;
                   double mean = 0.0;
                   for (int64_t r = 0; r < g.extent; ++r) mean += static_cast<double>(p[r * g.inner]);
                   mean /= static_cast<double>(g.extent);
                   double ss = 0.0;
                   for (int64_t r = 0; r < g.extent; ++r) {
                     double d = static_cast<double>(p[r * g.inner]) - mean;
                     ss += d * d;
                   }
                   dst[row] = static_cast<T>(denom > 0 ? ss / denom : std::numeric_limits<double>::quiet_NaN());
                 }
               });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, int dim, const Tensor& out, const Tensor* indices) {
  dispatch_float(x.dtype(), "reduce", [&](auto tag) { reduce_typed<decltype(tag)>(op, x, dim, out, indices); });
}

void variance(const Tensor& x, int dim, int64_t correction, const Tensor& out) {
  dispatch_float(x.dtype(), "var", [&](auto tag) { variance_typed<decltype(tag)>(x, dim, correction, out); });
}

}  // namespace vg::cpu
