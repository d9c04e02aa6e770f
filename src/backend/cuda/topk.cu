// CUDA top-k with the CPU's order (backend/cpu/topk.h): the strict order makes every element's
// rank in its row unique, so each thread counts the elements that come before its own and, when
// that rank is below k, writes itself to that slot. O(n^2) comparisons per row, spread over the
// block: meant for the short rows topk serves (frame scores), not for a vocabulary.
#include "backend/cpu/topk.h"
#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

// True when a (at position ia) comes before b (at ib) in the selection order.
__device__ __forceinline__ bool comes_before(float a, int64_t ia, float b, int64_t ib, bool largest) {
  const bool na = isnan(a), nb = isnan(b);
  if (na || nb) {
    if (na && nb) return ia < ib;
    return largest ? na : nb;
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

// x: [rows, n]; values, indices: [rows, k]. One block per row, the row in 1024-element tiles of
// shared memory.
template <class T>
__global__ void topk_kernel(const T* x, int64_t n, int64_t k, bool largest, T* values, int64_t* indices) {
  begin_chained();
  constexpr int kTile = 1024;
  __shared__ float tile[kTile];
  const T* row = x + blockIdx.x * n;
  for (int64_t base = 0; base < n; base += blockDim.x) {
    const int64_t i = base + threadIdx.x;
    const float mine = i < n ? load(row + i) : 0.0f;
    int64_t rank = 0;
    for (int64_t t0 = 0; t0 < n; t0 += kTile) {
      __syncthreads();
      for (int64_t j = threadIdx.x; j < kTile && t0 + j < n; j += blockDim.x) tile[j] = load(row + t0 + j);
      __syncthreads();
      const int64_t count = min(static_cast<int64_t>(kTile), n - t0);
      if (i < n) {
        for (int64_t j = 0; j < count; ++j) rank += comes_before(tile[j], t0 + j, mine, i, largest) ? 1 : 0;
      }
    }
    if (i < n && rank < k) {
      values[blockIdx.x * k + rank] = row[i];
      indices[blockIdx.x * k + rank] = i;
    }
  }
}

}  // namespace

void topk_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices) {
  const int64_t n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
  if (rows == 0 || k == 0) return;
  VG_CHECK(rows < (int64_t{1} << 31), "topk", "too many rows (", rows, ") for one launch");
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("topk", topk_kernel<T>, static_cast<unsigned>(rows), kThreads, 0, x.device(),
                   static_cast<const T*>(x.data_ptr()), n, k, largest, static_cast<T*>(values.data_ptr()),
                   indices.data<int64_t>());
  });
}

}  // namespace vg::cuda
