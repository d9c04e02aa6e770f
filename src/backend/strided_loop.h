// Strided N-d iteration shared by the backends: the shape an elementwise kernel walks and each
// operand's element strides (0 where an input is broadcast), with size-1 dims dropped and
// adjacent dims merged where every operand is contiguous across them, so most loops become one
// flat run. The CPU walks it with the thread pool; CUDA kernels decompose a linear index.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace vg {

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

// The loop of an elementwise kernel over operands[0]'s shape (the output) with the other
// operands broadcast to it.
template <size_t N>
Loop<N> elementwise_loop(const std::array<const Tensor*, N>& operands) {
  const Shape& shape = operands[0]->shape();
  std::array<Strides, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(*operands[k], shape);
  return make_loop<N>(shape, strides);
}

}  // namespace vg
