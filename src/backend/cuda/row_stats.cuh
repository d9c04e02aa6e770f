// Statistics of one contiguous row, reduced by the whole block (blockDim.x a multiple of 32):
// the norms of norm.cu and the fused chains of fused.cu share them, so a fused kernel's RMSNorm
// sums exactly as the rms_norm op does at the same block size. `scratch` holds 32 floats in
// shared memory; every thread gets the result.
//
// A row may also be held in registers, spread over the block (a "part" of S elements per
// thread): thread t holds elements t, t + blockDim.x, ... (zero past the row's end), the ones it
// would visit in the loops below, summed in the same order. A fused chain over a row (a decode
// step's one token) is a sequence of block reductions; with every operand loaded into registers
// at its start, it waits for memory once instead of once per reduction.
#pragma once

#include <type_traits>

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

// ---- rows held in registers ----

// Elements per thread the part kernels are built for: rows up to 2 and 8 x the block's threads,
// and 16 x for the kernels that take the longest rows (an MLP's width).
inline constexpr int kSmallPart = 2, kLargePart = 8, kLongestPart = 16;
// The longest rows a block of threads_for_row threads (at most 1,024) holds.
inline constexpr int64_t kMaxPartRow = kLargePart * 1024, kMaxLongestPartRow = kLongestPart * 1024;

template <class T, int S>
__device__ __forceinline__ void load_part(const T* row, int64_t n, float (&out)[S]) {
#pragma unroll
  for (int s = 0; s < S; ++s) {
    const int64_t i = threadIdx.x + static_cast<int64_t>(s) * blockDim.x;
    out[s] = i < n ? load(row + i) : 0.0f;
  }
}

template <class T, int S>
__device__ __forceinline__ void store_part(T* row, int64_t n, const float (&v)[S]) {
#pragma unroll
  for (int s = 0; s < S; ++s) {
    const int64_t i = threadIdx.x + static_cast<int64_t>(s) * blockDim.x;
    if (i < n) store(row + i, v[s]);
  }
}

// row_rstd of a part.
template <int S>
__device__ float part_rstd(const float (&v)[S], int64_t n, float eps, float* scratch) {
  float ss = 0.0f;
#pragma unroll
  for (int s = 0; s < S; ++s) ss += v[s] * v[s];
  return rsqrtf(block_sum(ss, scratch) / static_cast<float>(n) + eps);
}

// row_moments of a part (the zeros past the row's end left out of the squares).
template <int S>
__device__ RowMoments part_moments(const float (&v)[S], int64_t n, float* scratch) {
  float sum = 0.0f;
#pragma unroll
  for (int s = 0; s < S; ++s) sum += v[s];
  const float mean = block_sum(sum, scratch) / static_cast<float>(n);
  float ss = 0.0f;
#pragma unroll
  for (int s = 0; s < S; ++s) {
    const float d = v[s] - mean;
    if (threadIdx.x + static_cast<int64_t>(s) * blockDim.x < n) ss += d * d;
  }
  return {mean, block_sum(ss, scratch)};
}

// Host: calls launch(std::integral_constant<int, S>{}) with the part size that rows of n elements
// (n <= kMaxPart x threads) need over `threads` threads (at least threads_for_row(n)).
template <int kMaxPart = kLargePart, class Launch>
void with_part_size(int64_t n, int threads, Launch&& launch) {
  static_assert(kMaxPart == kLargePart || kMaxPart == kLongestPart);
  if (n <= kSmallPart * static_cast<int64_t>(threads)) {
    launch(std::integral_constant<int, kSmallPart>{});
  } else if (kMaxPart == kLargePart || n <= kLargePart * static_cast<int64_t>(threads)) {
    VG_ASSERT(n <= kLargePart * static_cast<int64_t>(threads));
    launch(std::integral_constant<int, kLargePart>{});
  } else if constexpr (kMaxPart == kLongestPart) {
    VG_ASSERT(n <= kLongestPart * static_cast<int64_t>(threads));
    launch(std::integral_constant<int, kLongestPart>{});
  }
}

}  // namespace vg::cuda
