// The fused op chains of ops/fused.h: one block per row of the last dim, each kernel replacing
// three to seven launches of a decode step. Values are rounded to the storage dtype wherever the
// composition stores an intermediate tensor, so that bf16 results differ from it only by the
// order of f32 sums; the RMS statistics are row_stats.cuh's, as norm.cu's rms_norm takes them
// (with the same threads_for_row).
#include <algorithm>

#include "backend/cuda/common.cuh"
#include "backend/cuda/fused.h"
#include "backend/cuda/row_stats.cuh"

namespace vg::cuda {
namespace {

constexpr int kMaxRouted = 8;  // AltUp streams (router outputs)
constexpr int kMaxMixed = 64;  // coefficients computed from them
constexpr int kMaxWarps = 32;

// Row r: m = tanh(rms_norm(x_r) . router_j / D) for j < N, then out_i = mix_i . m + offset.
// Thread j < N sums router product j over the warps, thread i < M computes coefficient i.
template <class T>
__global__ void altup_coefficients_kernel(const T* x, const T* norm_weight, const T* router, const T* mix, float eps,
                                          float inv_d, float offset, T* out, int64_t D, int N, int M) {
  __shared__ float scratch[32];
  __shared__ float dots[kMaxRouted][kMaxWarps];
  __shared__ float mix_s[kMaxMixed * kMaxRouted];
  __shared__ float routed[kMaxRouted];
  for (int i = threadIdx.x; i < M * N; i += blockDim.x) mix_s[i] = load(mix + i);  // visible after block_sum
  const T* row = x + blockIdx.x * D;
  const float rstd = row_rstd(row, D, eps, scratch);
  float part[kMaxRouted];
#pragma unroll
  for (int j = 0; j < kMaxRouted; ++j) part[j] = 0.0f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float normed = rounded<T>(load(row + i) * rstd * load(norm_weight + i));
#pragma unroll
    for (int j = 0; j < kMaxRouted; ++j) {
      if (j < N) part[j] = fmaf(normed, load(router + j * D + i), part[j]);
    }
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = static_cast<int>(blockDim.x / 32);
#pragma unroll
  for (int j = 0; j < kMaxRouted; ++j) {
    if (j >= N) continue;
    const float s = warp_sum(part[j]);
    if (lane == 0) dots[j][warp] = s;
  }
  __syncthreads();
  if (threadIdx.x < N) {
    float d = 0.0f;
    for (int w = 0; w < warps; ++w) d += dots[threadIdx.x][w];
    routed[threadIdx.x] = rounded<T>(tanhf(rounded<T>(rounded<T>(d) * inv_d)));
  }
  __syncthreads();
  if (threadIdx.x < M) {
    float c = 0.0f;
    for (int j = 0; j < N; ++j) c = fmaf(routed[j], mix_s[threadIdx.x * N + j], c);
    c = rounded<T>(c);
    if (offset != 0.0f) c = c + offset;
    store(out + blockIdx.x * M + threadIdx.x, c);
  }
}

template <class T>
struct Addends {
  const T* a[3] = {nullptr, nullptr, nullptr};
};

// With next_weight, a second pass normalises the row just written (read back by the threads
// that wrote it), its sum of squares taken as rms_norm_kernel takes it.
template <class T>
__global__ void rms_norm_add_kernel(const T* x, const T* weight, float eps, Addends<T> addends, float scale,
                                    bool scaled, T* out, const T* next_weight, T* normed, int64_t D) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  const float rstd = row_rstd(x + base, D, eps, scratch);
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    float acc = rounded<T>(load(x + base + i) * rstd * load(weight + i));
    acc = rounded<T>(load(addends.a[0] + base + i) + acc);
    if (addends.a[1] != nullptr) acc = rounded<T>(acc + load(addends.a[1] + base + i));
    if (addends.a[2] != nullptr) acc = rounded<T>(acc + load(addends.a[2] + base + i));
    const float v = rounded<T>(scaled ? acc * scale : acc);
    store(out + base + i, v);
    ss += v * v;
  }
  if (next_weight == nullptr) return;  // the same for the whole block
  const float next_rstd = rsqrtf(block_sum(ss, scratch) / static_cast<float>(D) + eps);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    store(normed + base + i, load(out + base + i) * next_rstd * load(next_weight + i));
  }
}

template <class T>
struct Streams {
  const T* pred[kMaxRouted];
  T* out[kMaxRouted];
  int count = 0;
};

// Block (row, column chunk): corrected_i = pred_i + scale_i * innovation, as mix.cu's kernel
// computes add_mixed, and the active stream times output_scale.
template <class T>
__global__ void altup_correct_kernel(Streams<T> s, const T* activated, const T* scale, const T* output_scale, T* scaled,
                                     int active, int64_t D) {
  const int64_t r = blockIdx.x;
  float coef[kMaxRouted];
#pragma unroll
  for (int i = 0; i < kMaxRouted; ++i) coef[i] = i < s.count ? load(scale + r * s.count + i) : 0.0f;
  for (int64_t e = blockIdx.y * blockDim.x + threadIdx.x; e < D; e += static_cast<int64_t>(blockDim.x) * gridDim.y) {
    const int64_t at = r * D + e;
    const float innovation = rounded<T>(load(activated + at) - load(s.pred[active] + at));
    float kept = 0.0f;
#pragma unroll
    for (int i = 0; i < kMaxRouted; ++i) {
      if (i >= s.count) continue;
      float acc = load(s.pred[i] + at);
      acc += coef[i] * innovation;
      store(s.out[i] + at, acc);
      if (i == active) kept = rounded<T>(acc);
    }
    store(scaled + at, output_scale != nullptr ? kept * load(output_scale + e) : kept);
  }
}

template <class T>
struct Targets {
  const T* in[8];
  T* out[8];
  int count = 0;
};

template <class T>
__global__ void rms_norm_add_to_each_kernel(const T* x, const T* weight, float eps, Targets<T> targets, int64_t D) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  const float rstd = row_rstd(x + base, D, eps, scratch);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float normed = rounded<T>(load(x + base + i) * rstd * load(weight + i));
    for (int t = 0; t < targets.count; ++t) store(targets.out[t] + base + i, load(targets.in[t] + base + i) + normed);
  }
}

// Row r of x (one head of one token) is normalised into shared memory, then rotated with the
// tables of its token, row r / heads: y[i] = n[i] c[i] -/+ n[i +/- D/2] s[i], as rope.cu does.
template <class T>
__global__ void rms_norm_rope_kernel(const T* x, const T* weight, float eps, const T* cos, const T* sin, T* out,
                                     int64_t D, int64_t heads) {
  __shared__ float scratch[32];
  extern __shared__ float normed[];  // [D]
  const int64_t base = blockIdx.x * D, table = (blockIdx.x / heads) * D, half = D / 2;
  const float rstd = row_rstd(x + base, D, eps, scratch);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
    normed[i] = rounded<T>(load(x + base + i) * rstd * load(weight + i));
  __syncthreads();
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const bool first = i < half;
    const float xi = normed[i], xp = normed[first ? i + half : i - half];
    const float c = load(cos + table + i), s = load(sin + table + i);
    store(out + base + i, first ? xi * c - xp * s : xi * c + xp * s);
  }
}

// relu(x - (mean + k * std)) with mean, variance, std, the product and the cutoff each rounded
// as the composition stores them.
template <class T>
__global__ void gaussian_topk_shift_kernel(const T* x, float multiplier, T* out, int64_t D) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  const RowMoments moments = row_moments(x + base, D, scratch);
  const float mean = moments.mean;
  const float variance = rounded<T>(moments.squares / static_cast<float>(D));
  const float spread = rounded<T>(rounded<T>(sqrtf(variance)) * multiplier);
  const float cutoff = rounded<T>(rounded<T>(mean) + spread);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float shifted = rounded<T>(load(x + base + i) - cutoff);
    store(out + base + i, shifted > 0.0f ? shifted : 0.0f);
  }
}

unsigned rows_of(const Tensor& x) {
  const int64_t rows = x.numel() / x.size(-1);
  VG_CHECK(rows < (int64_t{1} << 31), "fused", "too many rows (", rows, ") for one launch");
  return static_cast<unsigned>(rows);
}

template <class T>
const T* data_of(const Tensor& t) {
  return static_cast<const T*>(t.data_ptr());
}

}  // namespace

bool altup_coefficients_apply(int64_t D, const Tensor& norm_weight, const Tensor& router, const Tensor& mix) {
  return norm_weight.rank() == 1 && norm_weight.size(0) == D && router.rank() == 2 && router.size(1) == D &&
         router.size(0) >= 1 && router.size(0) <= kMaxRouted && mix.rank() == 2 && mix.size(1) == router.size(0) &&
         mix.size(0) >= 1 && mix.size(0) <= kMaxMixed;
}

void altup_coefficients(const Tensor& x, const Tensor& norm_weight, double eps, const Tensor& router, const Tensor& mix,
                        double offset, const Tensor& out) {
  const int64_t D = x.size(-1);
  VG_ASSERT(altup_coefficients_apply(D, norm_weight, router, mix));
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "altup_coefficients", [&](auto tag) {
    using T = decltype(tag);
    // At least M threads, for the coefficients.
    const int threads = std::max(threads_for_row(D), 32 * static_cast<int>((mix.size(0) + 31) / 32));
    altup_coefficients_kernel<T><<<rows_of(x), threads, 0, stream(x.device())>>>(
        data_of<T>(x), data_of<T>(norm_weight), data_of<T>(router), data_of<T>(mix), static_cast<float>(eps),
        static_cast<float>(1.0 / static_cast<double>(D)), static_cast<float>(offset), static_cast<T*>(out.data_ptr()),
        D, static_cast<int>(router.size(0)), static_cast<int>(mix.size(0)));
  });
  check_launch("altup_coefficients");
}

void rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends, double scale,
                  const Tensor& out, const Tensor* next_weight, const Tensor* normed) {
  VG_ASSERT(!addends.empty() && addends.size() <= 3 && (next_weight == nullptr) == (normed == nullptr));
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_add", [&](auto tag) {
    using T = decltype(tag);
    Addends<T> a;
    for (size_t i = 0; i < addends.size(); ++i) a.a[i] = data_of<T>(addends[i]);
    rms_norm_add_kernel<T><<<rows_of(x), threads_for_row(x.size(-1)), 0, stream(x.device())>>>(
        data_of<T>(x), data_of<T>(weight), static_cast<float>(eps), a, static_cast<float>(scale), scale != 1.0,
        static_cast<T*>(out.data_ptr()), next_weight != nullptr ? data_of<T>(*next_weight) : nullptr,
        normed != nullptr ? static_cast<T*>(normed->data_ptr()) : nullptr, x.size(-1));
  });
  check_launch("rms_norm_add");
}

void altup_correct_streams(const std::vector<Tensor>& pred, const Tensor& activated, const Tensor& scale,
                           int64_t active, const Tensor* output_scale, const std::vector<Tensor>& corrected,
                           const Tensor& scaled) {
  VG_ASSERT(!pred.empty() && pred.size() <= static_cast<size_t>(kMaxRouted) && corrected.size() == pred.size());
  if (activated.numel() == 0) return;
  set_device(activated.device().index);
  const int64_t D = activated.size(-1);
  dispatch_floating(activated.dtype(), "altup_correct_streams", [&](auto tag) {
    using T = decltype(tag);
    Streams<T> s;
    s.count = static_cast<int>(pred.size());
    for (size_t i = 0; i < pred.size(); ++i) {
      s.pred[i] = data_of<T>(pred[i]);
      s.out[i] = static_cast<T*>(corrected[i].data_ptr());
    }
    const dim3 grid(rows_of(activated), static_cast<unsigned>(std::min<int64_t>((D + kThreads - 1) / kThreads, 64)));
    altup_correct_kernel<T><<<grid, kThreads, 0, stream(activated.device())>>>(
        s, data_of<T>(activated), data_of<T>(scale), output_scale != nullptr ? data_of<T>(*output_scale) : nullptr,
        static_cast<T*>(scaled.data_ptr()), static_cast<int>(active), D);
  });
  check_launch("altup_correct_streams");
}

void rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& targets,
                          const std::vector<Tensor>& outs) {
  VG_ASSERT(!targets.empty() && targets.size() <= 8 && outs.size() == targets.size());
  if (x.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_add_to_each", [&](auto tag) {
    using T = decltype(tag);
    Targets<T> t;
    t.count = static_cast<int>(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      t.in[i] = data_of<T>(targets[i]);
      t.out[i] = static_cast<T*>(outs[i].data_ptr());
    }
    rms_norm_add_to_each_kernel<T><<<rows_of(x), threads_for_row(x.size(-1)), 0, stream(x.device())>>>(
        data_of<T>(x), data_of<T>(weight), static_cast<float>(eps), t, x.size(-1));
  });
  check_launch("rms_norm_add_to_each");
}

void rms_norm_rope(const Tensor& x, const Tensor& weight, double eps, const Tensor& cos, const Tensor& sin,
                   const Tensor& out) {
  const int64_t D = x.size(-1);
  VG_CHECK(D <= 8192, "rms_norm_rope", "head dim ", D, " is too large for one block's shared memory");
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_rope", [&](auto tag) {
    using T = decltype(tag);
    rms_norm_rope_kernel<T>
        <<<rows_of(x), threads_for_row(D), static_cast<size_t>(D) * sizeof(float), stream(x.device())>>>(
            data_of<T>(x), data_of<T>(weight), static_cast<float>(eps), data_of<T>(cos), data_of<T>(sin),
            static_cast<T*>(out.data_ptr()), D, x.size(-2));
  });
  check_launch("rms_norm_rope");
}

void gaussian_topk_shift(const Tensor& x, double multiplier, const Tensor& out) {
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "gaussian_topk_shift", [&](auto tag) {
    using T = decltype(tag);
    gaussian_topk_shift_kernel<T><<<rows_of(x), threads_for_row(x.size(-1)), 0, stream(x.device())>>>(
        data_of<T>(x), static_cast<float>(multiplier), static_cast<T*>(out.data_ptr()), x.size(-1));
  });
  check_launch("gaussian_topk_shift");
}

}  // namespace vg::cuda
