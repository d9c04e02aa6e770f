// Per-row mixtures (backend/cpu/mix.h) on the GPU: one pass over the N + M inputs for AltUp's
// predict (16 products) and correct, instead of a multiply and an add per pair; the backward
// sums each row's coefficient gradients in a fixed order (no atomics).
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

constexpr int kMaxTerms = 8;     // N and M each
constexpr int kMaxProducts = 16;  // N * M: the coefficient gradients a thread accumulates

template <class T>
struct Operands {
  const T* x[kMaxTerms];
  const T* y[kMaxTerms];
  T* out[kMaxTerms];
  int n, m;
};

// grid (ceil(D / 256), min(R, 65535)): a row per blockIdx.y step, D across the threads.
template <class T>
__global__ void mix_kernel(Operands<T> p, const T* c, int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    const T* coef = c + r * p.n * p.m;
    for (int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < d;
         e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t at = r * d + e;
      float y[kMaxTerms];
      for (int j = 0; j < p.m; ++j) y[j] = load(p.y[j] + at);
      for (int i = 0; i < p.n; ++i) {
        float acc = load(p.x[i] + at);
        for (int j = 0; j < p.m; ++j) acc += load(coef + i * p.m + j) * y[j];
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
template <class T>
__global__ void mix_backward_kernel(BackwardOperands<T> p, const T* c, T* gc, int64_t rows, int64_t d) {
  __shared__ float partial[kMaxProducts][32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const int products = p.n * p.m;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* coef = c + r * products;
    float dots[kMaxProducts] = {};
    for (int64_t e = threadIdx.x; e < d; e += blockDim.x) {
      const int64_t at = r * d + e;
      float g[kMaxTerms];
      for (int i = 0; i < p.n; ++i) g[i] = load(p.g[i] + at);
      for (int j = 0; j < p.m; ++j) {
        const float y = load(p.y[j] + at);
        float acc = 0.0f;
        for (int i = 0; i < p.n; ++i) {
          acc += load(coef + i * p.m + j) * g[i];
          dots[i * p.m + j] += g[i] * y;
        }
        if (p.want_gy) store(p.gy[j] + at, acc);
      }
    }
    if (gc == nullptr) continue;
    __syncthreads();  // the previous row's partials are read
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

template <class T, class P>
void fill(const std::vector<const Tensor*>& from, P* (&to)[kMaxTerms]) {
  for (size_t i = 0; i < from.size(); ++i) to[i] = static_cast<P*>(from[i]->data_ptr());
}

}  // namespace

void add_mixed(const std::vector<const Tensor*>& x, const std::vector<const Tensor*>& y, const Tensor& c,
               const std::vector<const Tensor*>& out) {
  VG_CHECK(x.size() <= kMaxTerms && y.size() <= kMaxTerms, "add_mixed", "at most ", kMaxTerms, " terms on cuda");
  const int64_t d = out[0]->size(-1), rows = out[0]->numel() / (d > 0 ? d : 1);
  if (rows == 0 || d == 0) return;
  set_device(c.device().index);
  dispatch_floating(c.dtype(), "add_mixed", [&](auto tag) {
    using T = decltype(tag);
    Operands<T> p{};
    p.n = static_cast<int>(x.size());
    p.m = static_cast<int>(y.size());
    fill<T>(x, p.x);
    fill<T>(y, p.y);
    fill<T>(out, p.out);
    const dim3 grid(static_cast<unsigned>((d + kThreads - 1) / kThreads),
                    static_cast<unsigned>(rows < 65535 ? rows : 65535));
    mix_kernel<T><<<grid, kThreads, 0, stream(c.device())>>>(p, static_cast<const T*>(c.data_ptr()), rows, d);
  });
  check_launch("add_mixed");
}

void add_mixed_backward(const std::vector<const Tensor*>& y, const Tensor& c, const std::vector<const Tensor*>& g,
                        const std::vector<const Tensor*>& gy, const Tensor* gc) {
  VG_CHECK(g.size() * y.size() <= kMaxProducts, "add_mixed", "at most ", kMaxProducts, " coefficients a row on cuda");
  const int64_t d = g[0]->size(-1), rows = g[0]->numel() / (d > 0 ? d : 1);
  if (rows == 0) return;
  set_device(c.device().index);
  dispatch_floating(c.dtype(), "add_mixed", [&](auto tag) {
    using T = decltype(tag);
    BackwardOperands<T> p{};
    p.n = static_cast<int>(g.size());
    p.m = static_cast<int>(y.size());
    p.want_gy = !gy.empty();
    fill<T>(y, p.y);
    fill<T>(g, p.g);
    fill<T>(gy, p.gy);
    mix_backward_kernel<T><<<grid_for(rows * kThreads), kThreads, 0, stream(c.device())>>>(
        p, static_cast<const T*>(c.data_ptr()), gc != nullptr ? static_cast<T*>(gc->data_ptr()) : nullptr, rows, d);
  });
  check_launch("add_mixed backward");
}

}  // namespace vg::cuda
