// CUDA softmax, LayerNorm and RMSNorm over the last dim of contiguous [rows, n] tensors, forward
// and backward, with the CPU's formulas (src/backend/cpu/norm.cpp). One block per row; the
// statistics are computed in f32 and stored in their tensors (f32 for bf16 and f16 inputs).
#include <cmath>

#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"
#include "backend/cuda/partial_sums.cuh"
#include "backend/cuda/row_stats.cuh"

namespace vg::cuda {
namespace {

struct Rows {
  int64_t rows = 0, n = 0;
};

Rows rows_of(const Tensor& x) {
  VG_ASSERT(x.is_contiguous() && x.rank() >= 1);
  const int64_t n = x.size(-1);
  return {n == 0 ? 0 : x.numel() / n, n};
}

unsigned launch_rows(const Rows& r, const char* op) {
  VG_CHECK(r.rows < (int64_t{1} << 31), op, "too many rows (", r.rows, ") for one launch");
  return static_cast<unsigned>(r.rows);
}

template <class T>
__global__ void softmax_kernel(const T* x, T* y, int64_t n, bool log) {
  begin_chained();
  __shared__ float scratch[32];
  const T* in = x + blockIdx.x * n;
  T* out = y + blockIdx.x * n;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, load(in + i));
  m = block_max(m, scratch);
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += expf(load(in + i) - m);
  sum = block_sum(sum, scratch);
  if (log) {
    const float lse = m + logf(sum);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) store(out + i, load(in + i) - lse);
  } else {
    const float inv = 1.0f / sum;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) store(out + i, expf(load(in + i) - m) * inv);
  }
}

// softmax: gx = y (g - sum(g y)); log_softmax: gx = g - exp(y) sum(g).
template <class T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* gx, int64_t n, bool log) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * n;
  float dot = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    dot += log ? load(g + base + i) : load(g + base + i) * load(y + base + i);
  dot = block_sum(dot, scratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float yi = load(y + base + i), gi = load(g + base + i);
    store(gx + base + i, log ? gi - expf(yi) * dot : yi * (gi - dot));
  }
}

template <class T>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, float eps, T* y, float* mean_out, float* rstd_out,
                                  int64_t n) {
  begin_chained();
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * n;
  const RowMoments moments = row_moments(x + base, n, scratch);
  const float mean = moments.mean;
  const float rstd = rsqrtf(moments.squares / static_cast<float>(n) + eps);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    float v = (load(x + base + i) - mean) * rstd;
    if (w != nullptr) v *= load(w + i);
    if (b != nullptr) v += load(b + i);
    store(y + base + i, v);
  }
  if (threadIdx.x == 0) {
    mean_out[blockIdx.x] = mean;
    rstd_out[blockIdx.x] = rstd;
  }
}

// gx = rstd (gw - mean(gw) - xhat mean(gw xhat)), with gw = g * w and xhat = (x - mean) rstd.
template <class T>
__global__ void layer_norm_backward_kernel(const T* x, const T* w, const float* mean_in, const float* rstd_in,
                                           const T* g, T* gx, int64_t n) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * n;
  const float mean = mean_in[blockIdx.x], rstd = rstd_in[blockIdx.x];
  float s1 = 0.0f, s2 = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float gw = load(g + base + i) * (w != nullptr ? load(w + i) : 1.0f);
    s1 += gw;
    s2 += gw * (load(x + base + i) - mean) * rstd;
  }
  s1 = block_sum(s1, scratch) / static_cast<float>(n);
  s2 = block_sum(s2, scratch) / static_cast<float>(n);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float gw = load(g + base + i) * (w != nullptr ? load(w + i) : 1.0f);
    const float xhat = (load(x + base + i) - mean) * rstd;
    store(gx + base + i, rstd * (gw - s1 - xhat * s2));
  }
}

template <class T>
__global__ void rms_norm_kernel(const T* x, const T* w, float eps, T* y, float* rstd_out, int64_t n) {
  begin_chained();
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * n;
  const float rstd = row_rstd(x + base, n, eps, scratch);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    float v = load(x + base + i) * rstd;
    if (w != nullptr) v *= load(w + i);
    store(y + base + i, v);
  }
  if (threadIdx.x == 0) rstd_out[blockIdx.x] = rstd;
}

// gx = rstd (gw - xhat mean(gw xhat)), with gw = g * w and xhat = x rstd.
template <class T>
__global__ void rms_norm_backward_kernel(const T* x, const T* w, const float* rstd_in, const T* g, T* gx, int64_t n) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * n;
  const float rstd = rstd_in[blockIdx.x];
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    s += load(g + base + i) * (w != nullptr ? load(w + i) : 1.0f) * load(x + base + i) * rstd;
  }
  s = block_sum(s, scratch) / static_cast<float>(n);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float gw = load(g + base + i) * (w != nullptr ? load(w + i) : 1.0f);
    store(gx + base + i, rstd * (gw - load(x + base + i) * rstd * s));
  }
}

// Column sums for the weight and bias gradients: each block sums a chunk of rows for 32 columns
// into f32 partials [chunks, n]; a second kernel adds the chunks in order (deterministic).
constexpr int kRowsPerChunk = 128;

template <class T>
__global__ void norm_weight_partials_kernel(const T* x, const float* mean_in, const float* rstd_in, const T* g,
                                            float* gw_partial, float* gb_partial, int64_t rows, int64_t n) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= n) return;
  const int64_t first = static_cast<int64_t>(blockIdx.y) * kRowsPerChunk;
  const int64_t last = min(rows, first + kRowsPerChunk);
  float sw = 0.0f, sb = 0.0f;
  for (int64_t r = first; r < last; ++r) {
    const float gi = load(g + r * n + col);
    const float mean = mean_in != nullptr ? mean_in[r] : 0.0f;
    sw += gi * (load(x + r * n + col) - mean) * rstd_in[r];
    sb += gi;
  }
  gw_partial[blockIdx.y * n + col] = sw;
  if (gb_partial != nullptr) gb_partial[blockIdx.y * n + col] = sb;
}

// gw[j] = sum_r g[r, j] xhat[r, j] (and gb[j] = sum_r g[r, j]); mean is null for RMSNorm.
template <class T>
void norm_weight_grads(const Tensor& x, const float* mean, const float* rstd, const Tensor& g, const Tensor* gw,
                       const Tensor* gb) {
  const Rows r = rows_of(x);
  if (gw == nullptr && gb == nullptr) return;
  const int64_t chunks = (r.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  const Tensor partial = f32_scratch(true, 2 * chunks * r.n, x.device());  // [2, chunks, n]
  float* pw = partial.data<float>();
  float* pb = pw + chunks * r.n;
  cudaStream_t s = stream(x.device());
  if (chunks > 0) {  // no rows: no partials, and the sums below are zeros
    VG_CHECK(chunks < 65536, "norm", "too many rows (", r.rows, ") for the weight gradient");
    const dim3 grid(static_cast<unsigned>((r.n + 31) / 32), static_cast<unsigned>(chunks));
    norm_weight_partials_kernel<T><<<grid, 32, 0, s>>>(static_cast<const T*>(x.data_ptr()), mean, rstd,
                                                       static_cast<const T*>(g.data_ptr()), pw,
                                                       gb != nullptr ? pb : nullptr, r.rows, r.n);
  }
  if (gw != nullptr) sum_partials(pw, 1, chunks, r.n, static_cast<T*>(gw->data_ptr()), s);
  if (gb != nullptr) sum_partials(pb, 1, chunks, r.n, static_cast<T*>(gb->data_ptr()), s);
  check_launch("norm weight gradient");
}

}  // namespace

void softmax(const Tensor& x, const Tensor& out, bool log) {
  const Rows r = rows_of(x);
  if (r.rows == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("softmax", softmax_kernel<T>, launch_rows(r, "softmax"), kThreads, 0, x.device(),
                   static_cast<const T*>(x.data_ptr()), static_cast<T*>(out.data_ptr()), r.n, log);
  });
}

void softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) {
  const Rows r = rows_of(y);
  if (r.rows == 0) return;
  set_device(y.device().index);
  dispatch_floating(y.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    softmax_backward_kernel<T><<<launch_rows(r, "softmax"), kThreads, 0, stream(y.device())>>>(
        static_cast<const T*>(y.data_ptr()), static_cast<const T*>(g.data_ptr()), static_cast<T*>(out.data_ptr()), r.n,
        log);
  });
  check_launch("softmax backward");
}

void layer_norm(const Tensor& x, const Tensor* w, const Tensor* b, double eps, const Tensor& y, const Tensor& mean,
                const Tensor& rstd) {
  const Rows r = rows_of(x);
  if (r.rows == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("layer_norm", layer_norm_kernel<T>, launch_rows(r, "layer_norm"), kThreads, 0, x.device(),
                   static_cast<const T*>(x.data_ptr()), optional_ptr<T>(w), optional_ptr<T>(b), static_cast<float>(eps),
                   static_cast<T*>(y.data_ptr()), f32_data(mean, "layer_norm", "the statistics"),
                   f32_data(rstd, "layer_norm", "the statistics"), r.n);
  });
}

void layer_norm_backward(const Tensor& x, const Tensor* w, const Tensor& mean, const Tensor& rstd, const Tensor& g,
                         const Tensor& gx, const Tensor* gw, const Tensor* gb) {
  const Rows r = rows_of(x);
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    const float* mu = f32_data(mean, "layer_norm", "the statistics");
    const float* rs = f32_data(rstd, "layer_norm", "the statistics");
    if (r.rows > 0) {
      layer_norm_backward_kernel<T><<<launch_rows(r, "layer_norm"), kThreads, 0, stream(x.device())>>>(
          static_cast<const T*>(x.data_ptr()), optional_ptr<T>(w), mu, rs, static_cast<const T*>(g.data_ptr()),
          static_cast<T*>(gx.data_ptr()), r.n);
      check_launch("layer_norm backward");
    }
    norm_weight_grads<T>(x, mu, rs, g, gw, gb);
  });
}

void rms_norm(const Tensor& x, const Tensor* w, double eps, const Tensor& y, const Tensor& rstd) {
  const Rows r = rows_of(x);
  if (r.rows == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("rms_norm", rms_norm_kernel<T>, launch_rows(r, "rms_norm"), threads_for_row(r.n), 0, x.device(),
                   static_cast<const T*>(x.data_ptr()), optional_ptr<T>(w), static_cast<float>(eps),
                   static_cast<T*>(y.data_ptr()), f32_data(rstd, "rms_norm", "the statistics"), r.n);
  });
}

void rms_norm_backward(const Tensor& x, const Tensor* w, const Tensor& rstd, const Tensor& g, const Tensor& gx,
                       const Tensor* gw) {
  const Rows r = rows_of(x);
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm", [&](auto tag) {
    using T = decltype(tag);
    const float* rs = f32_data(rstd, "rms_norm", "the statistics");
    if (r.rows > 0) {
      rms_norm_backward_kernel<T><<<launch_rows(r, "rms_norm"), kThreads, 0, stream(x.device())>>>(
          static_cast<const T*>(x.data_ptr()), optional_ptr<T>(w), rs, static_cast<const T*>(g.data_ptr()),
          static_cast<T*>(gx.data_ptr()), r.n);
      check_launch("rms_norm backward");
    }
    norm_weight_grads<T>(x, nullptr, rs, g, gw, nullptr);
  });
}

}  // namespace vg::cuda
