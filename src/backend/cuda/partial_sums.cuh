// The second half of every deterministic reduction of the CUDA backend: kernels write f32
// partial sums (per block, row or batch element) and these are added in a fixed order, never
// with float atomics, so a gradient has the same bits on every run.
#pragma once

#include <algorithm>

#include "backend/cuda/common.cuh"

namespace vg::cuda {

// out[o, i] = sum over p, in order, of part[o, p, i]; part: f32 [outer, parts, inner], out: T
// [outer, inner]. No parts gives zeros.
template <class T>
__global__ void sum_partials_kernel(const float* part, int64_t outer, int64_t parts, int64_t inner, T* out) {
  VG_GRID_STRIDE_LOOP(t, outer * inner) {
    const int64_t o = t / inner, i = t % inner;
    float acc = 0.0f;
    for (int64_t p = 0; p < parts; ++p) acc += part[(o * parts + p) * inner + i];
    store(out + t, acc);
  }
}

template <class T>
void sum_partials(const float* part, int64_t outer, int64_t parts, int64_t inner, T* out, cudaStream_t stream) {
  if (outer * inner == 0) return;
  sum_partials_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(part, outer, parts, inner, out);
  check_launch("partial sums");
}

// An f32 scratch tensor of numel elements (one at least, so empty problems still get a valid
// pointer) when wanted, else undefined.
inline Tensor f32_scratch(bool wanted, int64_t numel, Device device) {
  return wanted ? Tensor::empty({std::max<int64_t>(numel, 1)}, DType::F32, device) : Tensor();
}

}  // namespace vg::cuda
