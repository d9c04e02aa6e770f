// Per-row mixtures (backend/cpu/mix.h) on the GPU: one pass over the N + M inputs for AltUp's
// predict (16 products) and correct, instead of a multiply and an add per pair; the backward
// sums each row's coefficient gradients in a fixed order (no atomics).
#include <type_traits>

#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

constexpr int kMaxTerms = 8;      // N and M each
constexpr int kMaxProducts = 16;  // N * M: the coefficient gradients a thread accumulates

template <class T>
struct Operands {
  const T* x[kMaxTerms];
  const T* y[kMaxTerms];
  T* out[kMaxTerms];
  int n, m;
};

// Blocks walk the rows (grid-stride); with few rows (decoding) gridDim.y blocks share a row's
// elements. A block reads the row's coefficients once into registers, then every thread mixes
// elements e, e + stride, ... of it.
template <class T, int kN, int kM>
__global__ void mix_kernel(Operands<T> p, const T* c, int64_t rows, int64_t d) {
  begin_chained();
  const int n = kN > 0 ? kN : p.n, m = kN > 0 ? kM : p.m;  // AltUp's shapes known: all in registers
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float coef[kMaxProducts];
#pragma unroll
    for (int k = 0; k < n * m; ++k) coef[k] = load(c + r * n * m + k);
    for (int64_t e = blockIdx.y * blockDim.x + threadIdx.x; e < d; e += static_cast<int64_t>(blockDim.x) * gridDim.y) {
      const int64_t at = r * d + e;
      float y[kMaxTerms];
#pragma unroll
      for (int j = 0; j < m; ++j) y[j] = load(p.y[j] + at);
#pragma unroll
      for (int i = 0; i < n; ++i) {
        float acc = load(p.x[i] + at);
#pragma unroll
        for (int j = 0; j < m; ++j) acc += coef[i * m + j] * y[j];
        store(p.out[i] + at, acc);
      }
    }
  }
}

template <class T>
struct BackwardOperands {
  const T* y[kMaxTerms];
  const T* g[kMaxTerms];
  T* gy[kMaxTerms];
  int n, m;
  bool want_gy;
};

// One block per row (grid-stride): gy over D, then the row's N * M dot products reduced over
// the block.
template <class T, int kN, int kM>
__global__ void mix_backward_kernel(BackwardOperands<T> p, const T* c, T* gc, int64_t rows, int64_t d) {
  const int n = kN > 0 ? kN : p.n, m = kN > 0 ? kM : p.m;
  __shared__ float partial[kMaxProducts][32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int products = n * m;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float coef[kMaxProducts];
#pragma unroll
    for (int k = 0; k < products; ++k) coef[k] = load(c + r * products + k);
    float dots[kMaxProducts] = {};
    for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
      const int64_t at = r * d + e;
      float g[kMaxTerms];
#pragma unroll
      for (int i = 0; i < n; ++i) g[i] = load(p.g[i] + at);
#pragma unroll
      for (int j = 0; j < m; ++j) {
        const float y = load(p.y[j] + at);
        float acc = 0.0f;
#pragma unroll
        for (int i = 0; i < n; ++i) {
          acc += coef[i * m + j] * g[i];
          dots[i * m + j] += g[i] * y;
        }
        if (p.want_gy) store(p.gy[j] + at, acc);
      }
    }
    if (gc == nullptr) continue;
    __syncthreads();  // the previous row's partials are read
#pragma unroll
    for (int k = 0; k < products; ++k) {
      const float s = warp_sum(dots[k]);
      if (lane == 0) partial[k][warp] = s;
    }
    __syncthreads();
    if (threadIdx.x < products) {
      float s = 0.0f;
      for (int w = 0; w < warps; ++w) s += partial[threadIdx.x][w];
      store(gc + r * products + threadIdx.x, s);
    }
  }
}

// Calls f(std::integral_constant<int, N>, ..M) with the compiled shapes of AltUp's predict
// (4 x 4) and correct (4 x 1), or zeros (sizes read at run time).
template <class F>
void with_shape(size_t n, size_t m, F&& f) {
  if (n == 4 && m == 4) {
    f(std::integral_constant<int, 4>{}, std::integral_constant<int, 4>{});
  } else if (n == 4 && m == 1) {
    f(std::integral_constant<int, 4>{}, std::integral_constant<int, 1>{});
  } else {
    f(std::integral_constant<int, 0>{}, std::integral_constant<int, 0>{});
  }
}

template <class T, class P>
void pointers_of(const std::vector<const Tensor*>& from, P* (&to)[kMaxTerms]) {
  for (size_t i = 0; i < from.size(); ++i) to[i] = static_cast<P*>(from[i]->data_ptr());
}

// The kernels' register arrays: up to kMaxTerms of each and kMaxProducts coefficients a row
// (ops/mix.cpp refuses more before reaching here).
void check_sizes(size_t n, size_t m) {
  VG_CHECK(n <= kMaxTerms && m <= kMaxTerms && n * m <= kMaxProducts, "add_mixed", "at most ", kMaxTerms,
           " terms each and ", kMaxProducts, " coefficients a row on cuda, got ", n, " x ", m);
}

}  // namespace

void add_mixed(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
               const std::vector<const Tensor*>& out) {
  check_sizes(x.size(), y.size());
  const int64_t d = out[0]->size(-1), rows = out[0]->numel() / (d > 0 ? d : 1);
  if (rows == 0 || d == 0) return;
  set_device(c.device().index);
  dispatch_floating(c.dtype(), "add_mixed", [&](auto tag) {
    using T = decltype(tag);
    Operands<T> p{};
    p.n = static_cast<int>(x.size());
    p.m = static_cast<int>(y.size());
    pointers_of<T>(x, p.x);
    pointers_of<T>(y, p.y);
    pointers_of<T>(out, p.out);
    // A row per block when there are enough rows to fill the GPU; else each row over several.
    const dim3 grid(grid_for(rows * kThreads),
                    rows >= 256 ? 1u : static_cast<unsigned>((d + 2 * kThreads - 1) / (2 * kThreads)));
    with_shape(x.size(), y.size(), [&](auto n, auto m) {
      launch_chained("add_mixed", mix_kernel<T, decltype(n)::value, decltype(m)::value>, grid, kThreads, 0, c.device(),
                     p, static_cast<const T*>(c.data_ptr()), rows, d);
    });
  });
}

void add_mixed_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                        const std::vector<const Tensor*>& gy, const Tensor* gc) {
  check_sizes(g.size(), y.size());
  const int64_t d = g[0]->size(-1), rows = g[0]->numel() / (d > 0 ? d : 1);
  if (rows == 0) return;
  set_device(c.device().index);
  dispatch_floating(c.dtype(), "add_mixed", [&](auto tag) {
    using T = decltype(tag);
    BackwardOperands<T> p{};
    p.n = static_cast<int>(g.size());
    p.m = static_cast<int>(y.size());
    p.want_gy = !gy.empty();
    pointers_of<T>(y, p.y);
    pointers_of<T>(g, p.g);
    pointers_of<T>(gy, p.gy);
    with_shape(g.size(), y.size(), [&](auto n, auto m) {
      mix_backward_kernel<T, decltype(n)::value, decltype(m)::value>
          <<<grid_for(rows * kThreads), kThreads, 0, stream(c.device())>>>(
              p, static_cast<const T*>(c.data_ptr()), gc != nullptr ? static_cast<T*>(gc->data_ptr()) : nullptr, rows,
              d);
    });
  });
  check_launch("add_mixed backward");
}

}  // namespace vg::cuda
