// The operands of the CUDA attention kernels (attention.cu on CUDA cores, flash_attention.cu on
// tensor cores): [B, H, L, D] views, the mask broadcast to [B, Hq, Lq, Lk], and the geometry that
// says which key a query may see.
#pragma once

#include <cmath>

#include "backend/cpu/attention.h"
#include "backend/cuda/common.cuh"

namespace vg::cuda {

__host__ __device__ __forceinline__ int64_t smaller(int64_t a, int64_t b) { return a < b ? a : b; }

// A [B, H, L, D] operand: element (b, h, l, d) at b * s0 + h * s1 + l * s2 + d.
template <class T>
struct View {
  T* data;
  int64_t s0, s1, s2;
  __device__ T* row(int64_t b, int64_t h, int64_t l) const { return data + b * s0 + h * s1 + l * s2; }
};

template <class T>
View<T> view_of(const Tensor& t) {
  return {static_cast<T*>(t.data_ptr()), t.stride(0), t.stride(1), t.stride(2)};
}

// The mask broadcast to [B, Hq, Lq, Lk] (stride 0 on broadcast dims): bool/u8 "may attend" or
// additive of the operands' dtype.
template <class T>
struct Mask {
  const void* data = nullptr;
  bool additive = false;
  int64_t s[4] = {0, 0, 0, 0};

  __device__ float bias(int64_t b, int64_t h, int64_t i, int64_t j) const {  // -inf: may not attend
    if (data == nullptr) return 0.0f;
    const int64_t at = b * s[0] + h * s[1] + i * s[2] + j * s[3];
    if (additive) return load(static_cast<const T*>(data) + at);
    return static_cast<const uint8_t*>(data)[at] != 0 ? 0.0f : -INFINITY;
  }
};

template <class T>
Mask<T> mask_of(const Tensor* mask) {
  Mask<T> m;
  if (mask == nullptr) return m;
  m.data = mask->data_ptr();
  m.additive = is_floating(mask->dtype());
  const int offset = 4 - mask->rank();
  for (int d = 0; d < mask->rank(); ++d) m.s[d + offset] = mask->size(d) == 1 ? 0 : mask->stride(d);
  return m;
}

struct Geometry {
  int64_t B, Hq, Hkv, Lq, Lk, D, Dv;
  bool causal;
  int64_t window, query_offset;
  float scale;

  // Whether query row i may see key j by position (the mask comes on top).
  __device__ bool visible(int64_t i, int64_t j) const {
    const int64_t p = query_offset + i;
    if (causal && j > p) return false;
    return window == 0 || p - j < window;
  }
};

Geometry geometry_of(const Tensor& q, const Tensor& k, const Tensor& v, const cpu::AttentionParams& p);

}  // namespace vg::cuda
