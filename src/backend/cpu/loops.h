// Strided N-d loops for CPU kernels: run_loop walks a Loop (backend/strided_loop.h) over the
// thread pool, one run of the innermost dim at a time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "backend/strided_loop.h"
#include "core/error.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace vg::cpu {

// Calls inner(ptrs, inner_strides, n) over runs of the innermost dim; ptrs[k] points at the
// first element of the run for operand k. Elements are split across threads by linear index.
template <class T0, size_t N, class Inner>
void run_loop(const Loop<N>& loop, const std::array<T0*, N>& base, Inner&& inner, int64_t grain = 32768) {
  const int r = loop.rank;
  const int64_t inner_size = loop.sizes[r - 1];
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][r - 1];

  parallel_for(loop.numel, grain, [&](int64_t begin, int64_t end) {
    // Multi-index of `begin`.
    std::array<int64_t, kMaxRank> index{};
    int64_t rem = begin;
    for (int d = r - 1; d >= 0; --d) {
      index[d] = rem % loop.sizes[d];
      rem /= loop.sizes[d];
    }
    std::array<T0*, N> ptrs;
    for (size_t k = 0; k < N; ++k) {
      int64_t off = 0;
      for (int d = 0; d < r; ++d) off += index[d] * loop.strides[k][d];
      ptrs[k] = base[k] + off;
    }
    int64_t pos = begin;
    while (pos < end) {
      int64_t n = std::min(inner_size - index[r - 1], end - pos);
      inner(ptrs, inner_strides, n);
      pos += n;
      // Advance the multi-index by n (only the innermost dim moves within a run).
      index[r - 1] += n;
      for (size_t k = 0; k < N; ++k) ptrs[k] += n * inner_strides[k];
      for (int d = r - 1; d > 0 && index[d] == loop.sizes[d]; --d) {
        index[d] = 0;
        ++index[d - 1];
        for (size_t k = 0; k < N; ++k) ptrs[k] += loop.strides[k][d - 1] - loop.sizes[d] * loop.strides[k][d];
      }
    }
  });
}

// Calls f(T{}) with T the C++ type of a floating compute dtype (f32, f64); other dtypes throw.
template <class F>
void dispatch_float(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32: f(float{}); return;
    case DType::F64: f(double{}); return;
    default: throw Error(op, str("dtype ", dtype, " is not supported on the cpu (use f32 or f64; cast with .to())"));
  }
}

}  // namespace vg::cpu
