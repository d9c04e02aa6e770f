// for_each_element: runs a per-element functor over an output shape with broadcast, strided
// operands, through a flat kernel when every operand is dense or a scalar and a strided one
// otherwise (in 32-bit index arithmetic when the loop allows). The elementwise ops and RoPE are built on it.
#pragma once

#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"

namespace vg::cuda {

template <size_t N, class F>
__global__ void flat_kernel(int64_t n, Indexer<N> ix, F f) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(i, n) {
    int64_t off[N];
    for (size_t k = 0; k < N; ++k) off[k] = i * ix.strides[k][0];
    f(off);
  }
}

template <size_t N, class F>
__global__ void strided_kernel(int64_t n, Indexer<N> ix, F f) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(i, n) {
    int64_t off[N];
    ix.offsets(i, off);
    f(off);
  }
}

template <size_t N, class F>
__global__ void strided32_kernel(uint32_t n, Indexer32<N> ix, F f) {
  begin_chained();
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    int64_t off[N];
    ix.offsets(i, off);
    f(off);
  }
}

// Runs f(offsets) for every element of operands[0]'s shape; offsets[k] is operand k's element
// offset from its data pointer.
template <size_t N, class F>
void for_each_element(const std::array<const Tensor*, N>& operands, const char* name, F f) {
  const Loop<N> loop = elementwise_loop(operands);
  if (loop.numel == 0) return;
  const Indexer<N> ix(loop);
  const Device device = operands[0]->device();
  set_device(device.index);
  if (ix.is_flat()) {
    launch_chained(name, flat_kernel<N, F>, grid_for(loop.numel), kThreads, 0, device, loop.numel, ix, f);
  } else if (Indexer32<N>::fits(loop)) {
    launch_chained(name, strided32_kernel<N, F>, grid_for(loop.numel), kThreads, 0, device,
                   static_cast<uint32_t>(loop.numel), Indexer32<N>(loop), f);
  } else {
    launch_chained(name, strided_kernel<N, F>, grid_for(loop.numel), kThreads, 0, device, loop.numel, ix, f);
  }
}

}  // namespace vg::cuda
