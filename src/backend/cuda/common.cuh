// Device-side building blocks shared by the CUDA kernels: element loads and stores that compute
// in f32 (f64 stays f64), dtype dispatch, the strided indexer of elementwise kernels, launch
// sizes and warp/block reductions.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <array>
#include <cstdint>

#include "backend/cuda/runtime.h"
#include "backend/strided_loop.h"
#include "core/tensor.h"

namespace vg::cuda {

// ---- compute type: f32 for f32, bf16 and f16; f64 for f64 ----
template <class T>
struct ComputeOf {
  using type = float;
};
template <>
struct ComputeOf<double> {
  using type = double;
};
template <class T>
using compute_t = typename ComputeOf<T>::type;

template <class T>
__device__ __forceinline__ compute_t<T> load(const T* p) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __bfloat162float(*p);
  } else if constexpr (std::is_same_v<T, __half>) {
    return __half2float(*p);
  } else {
    return *p;
  }
}

template <class T, class V>
__device__ __forceinline__ void store(T* p, V v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    *p = __float2bfloat16_rn(static_cast<float>(v));
  } else if constexpr (std::is_same_v<T, __half>) {
    *p = __float2half_rn(static_cast<float>(v));
  } else {
    *p = static_cast<T>(v);
  }
}

// v as a tensor of T stores it: a composition's intermediate, repeated by a fused kernel.
template <class T>
__device__ __forceinline__ float rounded(float v) {
  T stored;
  store(&stored, v);
  return load(&stored);
}

// 16 bytes of T (8 bf16/f16, 4 f32): one vector load or store moves a Pack, and a thread keeps
// enough bytes in flight to reach the memory bandwidth, which 2-byte loads do not.
template <class T>
constexpr int kVector = static_cast<int>(16 / sizeof(T));

template <class T>
struct alignas(16) Pack {
  T v[kVector<T>];
};

// Two floats rounded to T (bf16 or f16), lo in the low half: one 32-bit register.
template <class T>
__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  uint32_t r;
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    r = *reinterpret_cast<const uint32_t*>(&v);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    r = *reinterpret_cast<const uint32_t*>(&v);
  }
  return r;
}

// 16 bytes of T (kVector<T>) as f32, converted in pairs: fewer registers than a
// Pack's elements one by one (74 against 109 at bf16 and one row).
template <class T>
__device__ __forceinline__ void unpack(const uint4& v, float (&out)[kVector<T>]) {
  if constexpr (std::is_same_v<T, float>) {
    out[0] = __uint_as_float(v.x);
    out[1] = __uint_as_float(v.y);
    out[2] = __uint_as_float(v.z);
    out[3] = __uint_as_float(v.w);
  } else {
    const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      float2 pair;
      if constexpr (std::is_same_v<T, __nv_bfloat16>) {
        pair = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&words[i]));
      } else {
        pair = __half22float2(*reinterpret_cast<const __half2*>(&words[i]));
      }
      out[2 * i] = pair.x;
      out[2 * i + 1] = pair.y;
    }
  }
}

// The dtype stored as T on the device.
template <class T>
constexpr DType dtype_of_storage() {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return DType::BF16;
  } else if constexpr (std::is_same_v<T, __half>) {
    return DType::F16;
  } else {
    return dtype_of<T>();
  }
}

// Calls f(T{}) with the storage type of a floating dtype: float, __nv_bfloat16 or __half. (f64
// is for gradient checks on the CPU; the GPU kernels do not instantiate it.)
template <class F>
void dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32: f(float{}); return;
    case DType::BF16: f(__nv_bfloat16{}); return;
    case DType::F16: f(__half{}); return;
    default: throw Error(op, str("dtype ", dtype, " is not supported on cuda (use f32, bf16 or f16)"));
  }
}

// The data of an f32 side tensor (norm statistics, attention logsumexp: accumulation_dtype of
// the activations), or an error naming the op and what the tensor is.
inline float* f32_data(const Tensor& t, const char* op, const char* what) {
  VG_CHECK(t.dtype() == DType::F32, op, what, " must be f32 on cuda, got ", t.dtype());
  return t.data<float>();
}

// The data of an optional operand as T* (nullptr for none: a null pointer or an undefined
// tensor). T may be const.
template <class T>
T* optional_ptr(const Tensor* t) {
  return t != nullptr && t->defined() ? static_cast<T*>(t->data_ptr()) : nullptr;
}

// Calls f(I{}) with the C++ type of an index tensor's dtype: int64_t for i64, int32_t for i32.
template <class F>
void with_index_type(DType dtype, F&& f) {
  if (dtype == DType::I64) {
    f(int64_t{});
  } else {
    f(int32_t{});
  }
}

// Calls f(W{}) with the unsigned integer W of the dtype's element size: kernels that only move
// elements (copies, gathers, where) need no more than that.
template <class F>
void with_word(DType dtype, const char* op, F&& f) {
  VG_CHECK(!is_quantized(dtype), op, "quantized tensors are not supported on cuda yet");
  switch (dtype_size(dtype)) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: VG_ASSERT(false);
  }
}

// ---- strided N-d indexing: a Loop (backend/strided_loop.h) passed to the kernel by value ----
template <size_t N>
struct Indexer {
  int rank = 1;
  int64_t sizes[kMaxRank];
  int64_t strides[N][kMaxRank];  // elements

  explicit Indexer(const Loop<N>& loop) : rank(loop.rank) {
    for (int d = 0; d < kMaxRank; ++d) {
      sizes[d] = loop.sizes[static_cast<size_t>(d)];
      for (size_t k = 0; k < N; ++k) strides[k][d] = loop.strides[k][static_cast<size_t>(d)];
    }
  }

  // Element offsets of every operand for linear index i of the (merged) shape.
  __device__ __forceinline__ void offsets(int64_t i, int64_t (&out)[N]) const {
    for (size_t k = 0; k < N; ++k) out[k] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t size = sizes[d];
      const int64_t index = d == 0 ? i : i % size;
      i = d == 0 ? 0 : i / size;
      for (size_t k = 0; k < N; ++k) out[k] += index * strides[k][d];
    }
  }

  // True when every operand walks its memory densely (stride 1) or stays put (stride 0).
  bool is_flat() const {
    if (rank != 1) return false;
    for (size_t k = 0; k < N; ++k) {
      if (strides[k][0] != 0 && strides[k][0] != 1) return false;
    }
    return true;
  }
};

// n / d for 0 <= n < 2^31 by a multiply-high and a shift (Granlund and Montgomery's invariant
// division), set up once on the host: 64-bit division costs a strided kernel more than its
// memory traffic.
struct FastDivider {
  uint32_t divisor = 1, magic = 1, shift = 0;

  FastDivider() = default;
  explicit FastDivider(uint32_t d) : divisor(d) {
    while ((uint64_t{1} << shift) < d) ++shift;  // d <= 2^31, so shift <= 31
    magic = static_cast<uint32_t>(((uint64_t{1} << 32) * ((uint64_t{1} << shift) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t divide(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
};

// The Indexer in 32-bit arithmetic, for loops whose element count and every operand's offsets
// stay below 2^31 (all the models' activations).
template <size_t N>
struct Indexer32 {
  int rank = 1;
  FastDivider sizes[kMaxRank];
  int32_t strides[N][kMaxRank];

  // Whether the loop fits; then the constructor may be used.
  static bool fits(const Loop<N>& loop) {
    constexpr int64_t kLimit = int64_t{1} << 31;
    if (loop.numel >= kLimit) return false;
    for (size_t k = 0; k < N; ++k) {
      int64_t reach = 0;
      for (int d = 0; d < loop.rank; ++d) {
        const int64_t stride = loop.strides[k][static_cast<size_t>(d)];
        reach += (loop.sizes[static_cast<size_t>(d)] - 1) * (stride < 0 ? -stride : stride);
      }
      if (reach >= kLimit) return false;
    }
    return true;
  }

  explicit Indexer32(const Loop<N>& loop) : rank(loop.rank) {
    for (int d = 0; d < kMaxRank; ++d) {
      sizes[d] = FastDivider(static_cast<uint32_t>(d < loop.rank ? loop.sizes[static_cast<size_t>(d)] : 1));
      for (size_t k = 0; k < N; ++k) strides[k][d] = static_cast<int32_t>(loop.strides[k][static_cast<size_t>(d)]);
    }
  }

  __device__ __forceinline__ void offsets(uint32_t i, int64_t (&out)[N]) const {
    int32_t off[N] = {};
    for (int d = rank - 1; d > 0; --d) {
      const uint32_t q = sizes[d].divide(i);
      const int32_t index = static_cast<int32_t>(i - q * sizes[d].divisor);
      for (size_t k = 0; k < N; ++k) off[k] += index * strides[k][d];
      i = q;
    }
    for (size_t k = 0; k < N; ++k) out[k] = off[k] + static_cast<int32_t>(i) * strides[k][0];
  }
};

// ---- launch sizes ----
constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (enough to fill an H100 several times over).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65536 ? 65536 : blocks));
}

// Threads of a block that reduces one row of n elements: about two elements a thread, from one
// warp to 1024. A decode step normalises one row at a time, and one block's latency is then the
// whole kernel; it depends on the row length only, so results do not depend on the batch.
inline int threads_for_row(int64_t n) {
  const int64_t warps = (n / 2 + 31) / 32;
  return static_cast<int>(32 * (warps < 1 ? 1 : (warps > 32 ? 32 : warps)));
}

#define VG_GRID_STRIDE_LOOP(i, n)                                                        \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// ---- reductions across a warp and a block ----
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// `scratch` holds 32 values in shared memory.
template <class T>
__device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

template <class T>
__device__ T block_max(T v, T* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : scratch[0];
  return warp_max(v);
}

}  // namespace vg::cuda
