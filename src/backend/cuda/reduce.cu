// CUDA reductions over one dim of a contiguous tensor seen as [outer, extent, inner], with the
// CPU's semantics (src/backend/cpu/reduce.cpp): max/min return the first extreme element and
// NaN wins; sums accumulate in f32 (f32, bf16, f16 inputs).
#include <cmath>

#include "backend/constant_op.h"
#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"
#include "backend/dim_split.h"

namespace vg::cuda {
namespace {

// A candidate extreme: its value and where it was.
struct Extreme {
  float value;
  int64_t index;
};

// The better of two candidates for max (or min): NaN first, then the larger (smaller) value,
// then the lower index.
template <bool kMax>
__device__ __forceinline__ Extreme better(Extreme a, Extreme b) {
  const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return a.index < b.index ? a : b;
    return a_nan ? a : b;
  }
  if (a.value != b.value) return (kMax ? a.value > b.value : a.value < b.value) ? a : b;
  return a.index < b.index ? a : b;
}

template <bool kMax>
__device__ Extreme warp_better(Extreme e) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    Extreme other{__shfl_xor_sync(0xffffffffu, e.value, offset), __shfl_xor_sync(0xffffffffu, e.index, offset)};
    e = better<kMax>(e, other);
  }
  return e;
}

// The block's best candidate, in every thread of warp 0 (shared: 32 slots).
template <bool kMax>
__device__ Extreme block_better(Extreme e, Extreme* shared) {
  e = warp_better<kMax>(e);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = e;
  __syncthreads();
  if (warp == 0) e = warp_better<kMax>(lane < static_cast<int>(blockDim.x / 32) ? shared[lane] : shared[0]);
  return e;
}

// Reduces elements [begin, end) of a row at stride `inner` over the block: the sum (thread 0
// holds it) or the extreme (warp 0 holds it).
template <class T, ReduceOp kOp>
__device__ Extreme reduce_range(const T* p, int64_t begin, int64_t end, int64_t inner) {
  __shared__ float sums[32];
  __shared__ Extreme extremes[32];
  if constexpr (kOp == ReduceOp::Sum || kOp == ReduceOp::Mean) {
    float acc = 0.0f;
    for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) acc += load(p + r * inner);
    return {block_sum(acc, sums), 0};
  } else {
    constexpr bool kMax = kOp == ReduceOp::Max;
    Extreme e{kMax ? -INFINITY : INFINITY, INT64_MAX};
    for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x)
      e = better<kMax>(e, Extreme{load(p + r * inner), r});
    return block_better<kMax>(e, extremes);
  }
}

// Thread 0 stores a block's result for output `row`: the sum (the mean over `extent`), or the
// extreme and its index.
template <class T, ReduceOp kOp>
__device__ void store_result(const Extreme& e, int64_t extent, int64_t row, T* out, int64_t* indices) {
  if (threadIdx.x != 0) return;
  if constexpr (kOp == ReduceOp::Sum || kOp == ReduceOp::Mean) {
    store(out + row, kOp == ReduceOp::Mean ? e.value / static_cast<float>(extent) : e.value);
  } else {
    store(out + row, e.value);
    if (indices != nullptr) indices[row] = e.index;
  }
}

// One block per output element: its threads stride along the reduced dim.
template <class T, ReduceOp kOp>
__global__ void reduce_rows_kernel(const T* x, T* out, int64_t* indices, DimSplit g) {
  begin_chained();
  const int64_t row = blockIdx.x;
  const T* p = x + (row / g.inner) * g.extent * g.inner + row % g.inner;
  store_result<T, kOp>(reduce_range<T, kOp>(p, 0, g.extent, g.inner), g.extent, row, out, indices);
}

// Long rows and few of them (the argmax over a 262k vocabulary at decode): block (c, row) reduces
// chunk c of a contiguous row into f32 partials [rows, chunks]; combine_chunks_kernel then
// reduces each row's partials in chunk order (deterministic, no atomics).
constexpr int64_t kChunk = 4096;

template <class T, ReduceOp kOp>
__global__ void reduce_chunks_kernel(const T* x, int64_t extent, float* part_values, int64_t* part_indices) {
  begin_chained();
  const int64_t row = blockIdx.y, chunk = blockIdx.x, at = row * gridDim.x + chunk;
  const int64_t begin = chunk * kChunk, end = min(extent, begin + kChunk);
  const Extreme e = reduce_range<T, kOp>(x + row * extent, begin, end, 1);
  if (threadIdx.x == 0) {
    part_values[at] = e.value;
    if (part_indices != nullptr) part_indices[at] = e.index;
  }
}

// A row's partials reduced as a row of `chunks` values. Chunks are in index order and each keeps
// its lowest best index, so the best chunk position (ties and NaNs to the lowest) is the chunk
// holding the row's best index, which part_indices gives.
template <class T, ReduceOp kOp>
__global__ void combine_chunks_kernel(const float* part_values, const int64_t* part_indices, int64_t chunks,
                                      int64_t extent, T* out, int64_t* indices) {
  begin_chained();
  const int64_t row = blockIdx.x;
  Extreme e = reduce_range<float, kOp>(part_values + row * chunks, 0, chunks, 1);
  if (threadIdx.x != 0) return;  // the only thread holding the block's result
  if constexpr (kOp == ReduceOp::Max || kOp == ReduceOp::Min) e.index = part_indices[row * chunks + e.index];
  store_result<T, kOp>(e, extent, row, out, indices);
}

// One thread per output element, for many outputs along a contiguous inner dim (coalesced).
template <class T, ReduceOp kOp>
__global__ void reduce_columns_kernel(const T* x, T* out, int64_t* indices, DimSplit g) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(row, g.outer * g.inner) {
    const T* p = x + (row / g.inner) * g.extent * g.inner + row % g.inner;
    if constexpr (kOp == ReduceOp::Sum || kOp == ReduceOp::Mean) {
      float acc = 0.0f;
      for (int64_t r = 0; r < g.extent; ++r) acc += load(p + r * g.inner);
      store(out + row, kOp == ReduceOp::Mean ? acc / static_cast<float>(g.extent) : acc);
    } else {
      constexpr bool kMax = kOp == ReduceOp::Max;
      Extreme e{load(p), 0};
      for (int64_t r = 1; r < g.extent; ++r) e = better<kMax>(e, Extreme{load(p + r * g.inner), r});
      store(out + row, e.value);
      if (indices != nullptr) indices[row] = e.index;
    }
  }
}

// Two passes per output element (mean, then squared deviations), one block per output.
template <class T>
__global__ void variance_kernel(const T* x, T* out, DimSplit g, int64_t correction) {
  begin_chained();
  __shared__ float sums[32];
  const int64_t row = blockIdx.x;
  const T* p = x + (row / g.inner) * g.extent * g.inner + row % g.inner;
  float acc = 0.0f;
  for (int64_t r = threadIdx.x; r < g.extent; r += blockDim.x) acc += load(p + r * g.inner);
  const float mean = block_sum(acc, sums) / static_cast<float>(g.extent);
  float ss = 0.0f;
  for (int64_t r = threadIdx.x; r < g.extent; r += blockDim.x) {
    const float d = load(p + r * g.inner) - mean;
    ss += d * d;
  }
  ss = block_sum(ss, sums);
  const int64_t denom = g.extent - correction;
  if (threadIdx.x == 0) store(out + row, denom > 0 ? ss / static_cast<float>(denom) : NAN);
}

// Outputs along a long inner dim go one per thread; otherwise one block per output.
bool by_columns(const DimSplit& g) { return g.inner >= 32 && g.outer * g.inner >= 1024; }
// Contiguous rows too long for one block to finish fast, and too few to fill the GPU.
bool by_chunks(const DimSplit& g) { return g.inner == 1 && g.extent >= 8 * kChunk && g.outer <= 64; }

}  // namespace

void reduce(ReduceOp op, const Tensor& x, int dim, const Tensor& out, const Tensor* indices) {
  VG_ASSERT(x.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  const bool extreme = op == ReduceOp::Max || op == ReduceOp::Min;
  VG_CHECK(!extreme || g.extent > 0, "reduce", "max/min over an empty dim");
  const int64_t outputs = g.outer * g.inner;
  if (outputs == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "reduce", [&](auto tag) {
    using T = decltype(tag);
    const T* src = static_cast<const T*>(x.data_ptr());
    T* dst = static_cast<T*>(out.data_ptr());
    int64_t* idx = indices != nullptr ? indices->data<int64_t>() : nullptr;
    with_reduce_op(op, [&](auto constant) {
      constexpr ReduceOp kOp = decltype(constant)::value;
      if (by_columns(g)) {
        launch_chained("reduce", reduce_columns_kernel<T, kOp>, grid_for(outputs), kThreads, 0, x.device(), src, dst,
                       idx, g);
      } else if (by_chunks(g)) {
        const int64_t chunks = (g.extent + kChunk - 1) / kChunk;
        Tensor values = Tensor::empty({outputs * chunks}, DType::F32, x.device());
        constexpr bool kExtreme = kOp == ReduceOp::Max || kOp == ReduceOp::Min;
        Tensor where = kExtreme ? Tensor::empty({outputs * chunks}, DType::I64, x.device()) : Tensor();
        int64_t* where_p = kExtreme ? where.data<int64_t>() : nullptr;
        launch_chained("reduce", reduce_chunks_kernel<T, kOp>,
                       dim3(static_cast<unsigned>(chunks), static_cast<unsigned>(outputs)), kThreads, 0, x.device(),
                       src, g.extent, values.data<float>(), where_p);
        launch_chained("reduce", combine_chunks_kernel<T, kOp>, static_cast<unsigned>(outputs), kThreads, 0, x.device(),
                       values.data<float>(), where_p, chunks, g.extent, dst, idx);
      } else {
        VG_CHECK(outputs < (int64_t{1} << 31), "reduce", "too many outputs (", outputs, ") for one launch");
        launch_chained("reduce", reduce_rows_kernel<T, kOp>, static_cast<unsigned>(outputs), kThreads, 0, x.device(),
                       src, dst, idx, g);
      }
    });
  });
}

void variance(const Tensor& x, int dim, int64_t correction, const Tensor& out) {
  VG_ASSERT(x.is_contiguous());
  const DimSplit g = split_at(x.shape(), dim);
  const int64_t outputs = g.outer * g.inner;
  if (outputs == 0) return;
  VG_CHECK(outputs < (int64_t{1} << 31), "var", "too many outputs (", outputs, ") for one launch");
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "var", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("var", variance_kernel<T>, static_cast<unsigned>(outputs), kThreads, 0, x.device(),
                   static_cast<const T*>(x.data_ptr()), static_cast<T*>(out.data_ptr()), g, correction);
  });
}

}  // namespace vg::cuda
