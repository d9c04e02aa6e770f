// Statistics of one contiguous row, reduced by the whole block (blockDim.x a multiple of 32), as
// norm.cu's norms take them. `scratch` holds 32 floats in shared memory; every thread gets the
// result.
//
// A row may also be held in registers, spread over the block (a "part" of S elements per
// thread, zero past the row's end), as the fused chains of fused.cu hold it: a chain over a row
// (a decode step's one token) is a sequence of block reductions, and with every operand loaded
// into registers at its start it waits for memory once instead of once per reduction. Parts sum
// in their own order: a fused RMSNorm differs from the rms_norm op's by the order of f32 sums.
#pragma once

#include <cstdint>
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

// A part is held in runs of kRun consecutive elements: thread t holds elements 8t .. 8t + 7, then
// 8(t + blockDim.x) .., so that a run is one 16-byte load of bf16 (two of f32) and a block of
// D / 8 threads holds a row of D. (One element per thread and step, as the loops above take them,
// took seven times the instructions: a single block's SM, not memory, bounded those kernels.)
inline constexpr int kRun = 8;
// The largest block of a part kernel: its registers then hold a part of 8 runs of a dozen
// operands without spilling, where 1,024 threads have 64 registers each.
inline constexpr int kMaxPartThreads = 256;
// Elements per thread the part kernels are built for: rows up to 8 x the block's threads (2,048
// at most: Gemma's width), 32 x, and 64 x for the kernels that take the longest rows (an MLP's).
inline constexpr int kSmallPart = 8, kLargePart = 32, kLongestPart = 64;
// The longest rows a block of part_threads threads holds.
inline constexpr int64_t kMaxPartRow = kLargePart * kMaxPartThreads,
                         kMaxLongestPartRow = kLongestPart * kMaxPartThreads;

// The row element that slot s of this thread's part holds.
__device__ __forceinline__ int64_t part_element(int s) {
  return (threadIdx.x + static_cast<int64_t>(s / kRun) * blockDim.x) * kRun + s % kRun;
}

// kRun elements as f32, moved as 16-byte vectors.
struct Run {
  float v[kRun];
};

// The run at p (16-byte aligned).
template <class T>
__device__ __forceinline__ Run load_run(const T* p) {
  constexpr int E = kVector<T>;
  Run run;
#pragma unroll
  for (int k = 0; k < kRun / E; ++k) {
    float values[E];
    unpack<T>(reinterpret_cast<const uint4*>(p)[k], values);
#pragma unroll
    for (int e = 0; e < E; ++e) run.v[k * E + e] = values[e];
  }
  return run;
}

// The run stored as T at p (16-byte aligned), each value rounded as store() rounds it.
template <class T>
__device__ __forceinline__ void store_run(T* p, const Run& run) {
  if constexpr (std::is_same_v<T, float>) {
    reinterpret_cast<float4*>(p)[0] = make_float4(run.v[0], run.v[1], run.v[2], run.v[3]);
    reinterpret_cast<float4*>(p)[1] = make_float4(run.v[4], run.v[5], run.v[6], run.v[7]);
  } else {
    uint32_t words[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) words[i] = pack<T>(run.v[2 * i], run.v[2 * i + 1]);
    *reinterpret_cast<uint4*>(p) = make_uint4(words[0], words[1], words[2], words[3]);
  }
}

// A run lies whole in a row of n elements at `row` and may move as vectors.
template <class T>
__device__ __forceinline__ bool whole_run(const T* row, int64_t first, int64_t n) {
  return first + kRun <= n && reinterpret_cast<uintptr_t>(row + first) % 16 == 0;
}

template <class T, int S>
__device__ __forceinline__ void load_part(const T* row, int64_t n, float (&out)[S]) {
  static_assert(S % kRun == 0);
#pragma unroll
  for (int r = 0; r < S / kRun; ++r) {
    const int64_t first = (threadIdx.x + static_cast<int64_t>(r) * blockDim.x) * kRun;
    if (whole_run(row, first, n)) {
      const Run run = load_run(row + first);
#pragma unroll
      for (int e = 0; e < kRun; ++e) out[r * kRun + e] = run.v[e];
    } else {
#pragma unroll
      for (int e = 0; e < kRun; ++e) out[r * kRun + e] = first + e < n ? load(row + first + e) : 0.0f;
    }
  }
}

template <class T, int S>
__device__ __forceinline__ void store_part(T* row, int64_t n, const float (&v)[S]) {
  static_assert(S % kRun == 0);
#pragma unroll
  for (int r = 0; r < S / kRun; ++r) {
    const int64_t first = (threadIdx.x + static_cast<int64_t>(r) * blockDim.x) * kRun;
    if (whole_run(row, first, n)) {
      Run run;
#pragma unroll
      for (int e = 0; e < kRun; ++e) run.v[e] = v[r * kRun + e];
      store_run(row + first, run);
    } else {
#pragma unroll
      for (int e = 0; e < kRun; ++e) {
        if (first + e < n) store(row + first + e, v[r * kRun + e]);
      }
    }
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
    if (part_element(s) < n) ss += d * d;
  }
  return {mean, block_sum(ss, scratch)};
}

// Host: the threads of a block that holds a row of n elements as parts: a run each, in whole
// warps, at most kMaxPartThreads (longer rows take parts of several runs).
inline int part_threads(int64_t n) {
  const int64_t warps = (n + 32 * kRun - 1) / (32 * kRun);
  return static_cast<int>(32 * (warps < 1 ? 1 : (warps > kMaxPartThreads / 32 ? kMaxPartThreads / 32 : warps)));
}

// Host: calls launch(std::integral_constant<int, S>{}) with the part size that rows of n elements
// (n <= kMaxPart x threads) need over `threads` threads (at least part_threads(n)).
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
