// Statistics of one contiguous row, reduced by the whole block (blockDim.x a multiple of 32):
// the norms of norm.cu and the fused chains of fused.cu share them, so a fused kernel's RMSNorm
// sums exactly as the rms_norm op does at the same block size. `scratch` holds 32 floats in
// shared memory; every thread gets the result.
#pragma once

#include "backend/cuda/common.cuh"

namespace vg::cuda {

// 1 / sqrt(mean(x^2) + eps).
template <class T>
__device__ float row_rstd(const T* row, int64_t n, float eps, float* scratch) {
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float v = load(row + i);
    ss += v * v;
  }
  return rsqrtf(block_sum(ss, scratch) / static_cast<float>(n) + eps);
}

struct RowMoments {
  float mean;
  float squares;  // sum of (x - mean)^2, two-pass
};

template <class T>
__device__ RowMoments row_moments(const T* row, int64_t n, float* scratch) {
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += load(row + i);
  const float mean = block_sum(sum, scratch) / static_cast<float>(n);
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float d = load(row + i) - mean;
    ss += d * d;
  }
  return {mean, block_sum(ss, scratch)};
}

}  // namespace vg::cuda
