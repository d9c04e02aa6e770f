// Strided N-d loops for CPU kernels. A loop walks every element of an output shape with up to
// four operands, each with its own element strides (0 where an input is broadcast). Adjacent
// dims that are contiguous for every operand are merged, so most loops become one flat run.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/error.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace vg::cpu {

constexpr size_t kMaxOperands = 4;

// Strides of `t` as seen from `out_shape` (right-aligned, 0 on broadcast dims).
Strides broadcast_strides(const Tensor& t, const Shape& out_shape);

template <size_t N>
struct Loop {
  int rank = 0;
  std::array<int64_t, kMaxRank> sizes{};
  std::array<std::array<int64_t, kMaxRank>, N> strides{};  // elements
  int64_t numel = 0;
};

template <size_t N>
Loop<N> make_loop(const Shape& shape, const std::array<Strides, N>& strides) {
  Loop<N> loop;
  loop.numel = numel(shape);
  // Drop size-1 dims, then merge dim i into i+1 when every operand is contiguous across them.
  for (int d = 0; d < shape.rank(); ++d) {
    if (shape[d] == 1) continue;
    int r = loop.rank;
    if (r > 0) {
      bool mergeable = true;
      for (size_t k = 0; k < N; ++k) mergeable = mergeable && strides[k][d] * shape[d] == loop.strides[k][r - 1];
      if (mergeable) {
        loop.sizes[r - 1] *= shape[d];
        for (size_t k = 0; k < N; ++k) loop.strides[k][r - 1] = strides[k][d];
        continue;
      }
    }
    loop.sizes[r] = shape[d];
    for (size_t k = 0; k < N; ++k) loop.strides[k][r] = strides[k][d];
    loop.rank = r + 1;
  }
  if (loop.rank == 0) {  // a scalar or all-ones shape: one element
    loop.rank = 1;
    loop.sizes[0] = 1;
    for (size_t k = 0; k < N; ++k) loop.strides[k][0] = 0;
  }
  return loop;
}

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
