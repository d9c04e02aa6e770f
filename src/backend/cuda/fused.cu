// The fused op chains of ops/fused.h: one block per row of the last dim, each kernel replacing
// three to seven launches of a decode step. Values are rounded to the storage dtype wherever the
// composition stores an intermediate tensor, so that bf16 results differ from it only by the
// order of f32 sums. Most kernels hold their row's operands in registers as parts
// (row_stats.cuh), all loaded at the start: a decode step's chain then waits for memory once.
#include <algorithm>

#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/fused.h"
#include "backend/cuda/graph_memory.h"
#include "backend/cuda/row_stats.cuh"

namespace vg::cuda {
namespace {

constexpr int kMaxRouted = kMaxStreams;  // AltUp streams (router outputs)
constexpr int kMaxMixed = 64;            // coefficients computed from them
constexpr int kMaxWarps = 32;
constexpr int kMaxNormParts = 3;  // rms_norm_rope: attention's q, k and v
static_assert(kMaxFusedRow == kMaxPartRow && kMaxTopkRow == kMaxLongestPartRow);
constexpr int kMaxBlock = kMaxPartThreads;

// AltUp's router with one coefficient mix, as a kernel takes it.
template <class T>
struct Router {
  const T* norm_weight;  // [D]
  const T* router;       // [N, D]
  const T* mix;          // [M, N]
  float eps, inv_d, offset;
  int N, M;
};

// The router's weights as parts of a row (row_stats.cuh), loaded with the row they route.
template <int S>
struct RouterPart {
  float norm_weight[S];
  float rows[kMaxRouted][S];
};

// The router's mix [M * N], which load_router puts in the block's shared memory (visible to the
// block after its next barrier).
__device__ __forceinline__ float* router_mix() {
  __shared__ float mix[kMaxMixed * kMaxRouted];
  return mix;
}

template <class T, int S>
__device__ __forceinline__ void load_router(const Router<T>& r, int64_t D, RouterPart<S>& out) {
  load_part(r.norm_weight, D, out.norm_weight);
#pragma unroll
  for (int j = 0; j < kMaxRouted; ++j) {
    if (j < r.N) load_part(r.router + j * D, D, out.rows[j]);
  }
  float* mix = router_mix();
  for (int i = threadIdx.x; i < r.M * r.N; i += blockDim.x) mix[i] = load(r.mix + i);
}

// A kernel's constant operands (weights) may be loaded before it waits for the kernel before it
// (`early`: in a recording, graph_memory.h's constant_while_recording), so that they stream in
// while that kernel works; its other operands only after. load() loads the constants.
template <class Load>
__device__ __forceinline__ void begin_chained_after(bool early, Load&& load) {
  if (early) load();
  begin_chained();
  if (!early) load();
}

// The AltUp coefficients of one row (D elements, held as parts with the router's): m =
// tanh(rms_norm(row) . router_j / D) for j < N, then coefs[i] = mix_i . m + offset for i < M,
// each rounded as the composition stores it, into `coefs` (shared, M floats). Warp j < N sums
// router product j over the warps, thread i < M computes coefficient i; the whole block calls
// it, and every thread sees the coefficients when it returns.
template <class T, int S>
__device__ void part_altup_coefficients(const float (&row)[S], const RouterPart<S>& rp, const Router<T>& r, int64_t D,
                                        float* coefs) {
  __shared__ float scratch[32];
  __shared__ float dots[kMaxRouted][kMaxWarps];
  __shared__ float routed[kMaxRouted];
  const int N = r.N, M = r.M;
  const float* mix_s = router_mix();  // visible after block_sum
  const float rstd = part_rstd(row, D, r.eps, scratch);
  float part[kMaxRouted];
#pragma unroll
  for (int j = 0; j < kMaxRouted; ++j) part[j] = 0.0f;
#pragma unroll
  for (int s = 0; s < S; ++s) {
    const float normed = rounded<T>(row[s] * rstd * rp.norm_weight[s]);
#pragma unroll
    for (int j = 0; j < kMaxRouted; ++j) {
      if (j < N) part[j] = fmaf(normed, rp.rows[j][s], part[j]);
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
  for (int j = warp; j < N; j += warps) {  // warp j sums product j over the warps
    const float d = warp_sum(lane < warps ? dots[j][lane] : 0.0f);
    if (lane == 0) routed[j] = rounded<T>(tanhf(rounded<T>(rounded<T>(d) * r.inv_d)));
  }
  __syncthreads();
  if (threadIdx.x < M) {
    float c = 0.0f;
    for (int j = 0; j < N; ++j) c = fmaf(routed[j], mix_s[threadIdx.x * N + j], c);
    c = rounded<T>(c);
    coefs[threadIdx.x] = rounded<T>(c + r.offset);  // c itself for offset 0
  }
  __syncthreads();
}

// Row r of x into out [rows, M].
template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock) altup_coefficients_kernel(const T* x, Router<T> r, T* out, int64_t D) {
  begin_chained();
  __shared__ float coefs[kMaxMixed];
  float row[S];
  RouterPart<S> rp;
  load_part(x + blockIdx.x * D, D, row);
  load_router(r, D, rp);
  part_altup_coefficients(row, rp, r, D, coefs);
  if (threadIdx.x < r.M) store(out + blockIdx.x * r.M + threadIdx.x, coefs[threadIdx.x]);
}

template <class T>
struct Addends {
  const T* a[3] = {nullptr, nullptr, nullptr};
  // Optional last addend, a normalised branch: residual + rms_norm(x, weight).
  const T* branch = nullptr;
  const T* branch_weight = nullptr;
  const T* branch_residual = nullptr;
};

// With next_weight, the row just computed (still in registers) is normalised too, from the
// rounded values it stores.
template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock)
    rms_norm_add_kernel(const T* x, const T* weight, float eps, Addends<T> addends, float scale, T* out,
                        const T* next_weight, T* normed, int64_t D, bool early) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  const bool branch = addends.branch != nullptr;
  float xs[S], w[S], a[3][S], b[S], bw[S], br[S], nw[S];
  begin_chained_after(early, [&] {
    load_part(weight, D, w);
    if (branch) load_part(addends.branch_weight, D, bw);
    if (next_weight != nullptr) load_part(next_weight, D, nw);
  });
  load_part(x + base, D, xs);
#pragma unroll
  for (int k = 0; k < 3; ++k) {
    if (addends.a[k] != nullptr) load_part(addends.a[k] + base, D, a[k]);
  }
  if (branch) {
    load_part(addends.branch + base, D, b);
    load_part(addends.branch_residual + base, D, br);
  }
  const float rstd = part_rstd(xs, D, eps, scratch);
  const float branch_rstd = branch ? part_rstd(b, D, eps, scratch) : 0.0f;
  float ss = 0.0f;
  float sum[S];
#pragma unroll
  for (int s = 0; s < S; ++s) {
    float acc = rounded<T>(xs[s] * rstd * w[s]);
    acc = rounded<T>(a[0][s] + acc);
    if (addends.a[1] != nullptr) acc = rounded<T>(acc + a[1][s]);
    if (addends.a[2] != nullptr) acc = rounded<T>(acc + a[2][s]);
    if (branch) acc = rounded<T>(acc + rounded<T>(br[s] + rounded<T>(b[s] * branch_rstd * bw[s])));
    sum[s] = rounded<T>(acc * scale);  // acc itself when scale is 1
    ss += sum[s] * sum[s];             // zero past the row's end
  }
  store_part(out + base, D, sum);
  if (next_weight == nullptr) return;  // the same for the whole block
  const float next_rstd = rsqrtf(block_sum(ss, scratch) / static_cast<float>(D) + eps);
#pragma unroll
  for (int s = 0; s < S; ++s) sum[s] = sum[s] * next_rstd * nw[s];
  store_part(normed + base, D, sum);
}

// AltUp's streams: read (the predictions, or the streams they are predicted from) and written.
template <class T>
struct Streams {
  const T* in[kMaxRouted];
  T* out[kMaxRouted];
  int count = 0;
};

// Element `at` of AltUp's correct step: corrected_i = pred_i + coef_i * innovation for every
// stream, as mix.cu's kernel computes add_mixed, and the active one (rounded as stored) times
// out_scale (1 without an output scale) into `scaled`.
template <class T>
__device__ __forceinline__ void correct_element(const Streams<T>& s, const float (&pred)[kMaxRouted], float innovation,
                                                const float* coef, float out_scale, T* scaled, int active, int64_t at) {
  float kept = 0.0f;
#pragma unroll
  for (int i = 0; i < kMaxRouted; ++i) {
    if (i >= s.count) continue;
    float acc = pred[i];
    acc += coef[i] * innovation;
    store(s.out[i] + at, acc);
    if (i == active) kept = rounded<T>(acc);
  }
  store(scaled + at, kept * out_scale);
}

// Elements begin, begin + step, ... of row r of AltUp's correct step (correct_element).
template <class T>
__device__ void correct_row(const Streams<T>& s, const T* activated, const float* coef, const T* output_scale,
                            T* scaled, int active, int64_t r, int64_t D, int64_t begin, int64_t step) {
  for (int64_t e = begin; e < D; e += step) {
    const int64_t at = r * D + e;
    float pred[kMaxRouted];
#pragma unroll
    for (int i = 0; i < kMaxRouted; ++i) pred[i] = i < s.count ? load(s.in[i] + at) : 0.0f;
    const float innovation = rounded<T>(load(activated + at) - load(s.in[active] + at));
    correct_element(s, pred, innovation, coef, output_scale != nullptr ? load(output_scale + e) : 1.0f, scaled, active,
                    at);
  }
}

// Block (row, column chunk) of altup_correct_streams.
template <class T>
__global__ void altup_correct_kernel(Streams<T> s, const T* activated, const T* scale, const T* output_scale, T* scaled,
                                     int active, int64_t D) {
  begin_chained();
  const int64_t r = blockIdx.x;
  float coef[kMaxRouted];
#pragma unroll
  for (int i = 0; i < kMaxRouted; ++i) coef[i] = i < s.count ? load(scale + r * s.count + i) : 0.0f;
  correct_row(s, activated, coef, output_scale, scaled, active, r, D, blockIdx.y * blockDim.x + threadIdx.x,
              static_cast<int64_t>(blockDim.x) * gridDim.y);
}

// Block r: activated = residual + rms_norm(x) (rms_norm_add_kernel's roundings); its correction
// coefficients (offset included in the router); then correct_element over the whole row, every
// operand loaded as parts at the start.
template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock)
    rms_norm_add_then_correct_kernel(const T* x, const T* weight, const T* residual, Router<T> router, Streams<T> st,
                                     const T* output_scale, T* activated, T* scaled, int active, int64_t D,
                                     bool early) {
  __shared__ float scratch[32];
  __shared__ float coefs[kMaxMixed];
  const int64_t base = blockIdx.x * D;
  float xs[S], w[S], res[S], out_scale[S], pred[kMaxRouted][S], active_pred[S];
  RouterPart<S> rp;
  begin_chained_after(early, [&] {
    load_part(weight, D, w);
    load_router(router, D, rp);
    if (output_scale != nullptr) load_part(output_scale, D, out_scale);
  });
  load_part(x + base, D, xs);
  load_part(residual + base, D, res);
#pragma unroll
  for (int i = 0; i < kMaxRouted; ++i) {
    if (i < st.count) load_part(st.in[i] + base, D, pred[i]);
  }
  load_part(st.in[active] + base, D, active_pred);  // pred[active] without indexing registers by a runtime value
  const float rstd = part_rstd(xs, D, router.eps, scratch);
  float act[S];
#pragma unroll
  for (int s = 0; s < S; ++s) act[s] = rounded<T>(res[s] + rounded<T>(xs[s] * rstd * w[s]));
  store_part(activated + base, D, act);
  part_altup_coefficients(act, rp, router, D, coefs);
  // correct_element over the part: every corrected stream, then the active one scaled.
  float innovation[S], kept[S] = {};
#pragma unroll
  for (int s = 0; s < S; ++s) innovation[s] = rounded<T>(act[s] - active_pred[s]);
#pragma unroll
  for (int i = 0; i < kMaxRouted; ++i) {
    if (i >= st.count) continue;
    float out[S];
#pragma unroll
    for (int s = 0; s < S; ++s) {
      out[s] = pred[i][s] + coefs[i] * innovation[s];
      if (i == active) kept[s] = rounded<T>(out[s]) * (output_scale != nullptr ? out_scale[s] : 1.0f);
    }
    store_part(st.out[i] + base, D, out);
  }
  store_part(scaled + base, D, kept);
}

// Block r: the predictions pred_i = stream_i + sum_j coef_ij stream_j (mix.cu's add_mixed, with
// the coefficients of the active stream in shared memory), then rms_norm of the active
// prediction, from the rounded values each thread holds.
template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock)
    altup_predict_then_norm_kernel(Streams<T> st, Router<T> router, int active, const T* input_norm, T* normed,
                                   int64_t D, bool early) {
  __shared__ float scratch[32];
  __shared__ float coefs[kMaxMixed];
  const int64_t base = blockIdx.x * D;
  const int n = st.count;
  float y[kMaxRouted][S], norm_weight[S], kept[S];
  RouterPart<S> rp;
  begin_chained_after(early, [&] {
    load_part(input_norm, D, norm_weight);
    load_router(router, D, rp);
  });
#pragma unroll
  for (int j = 0; j < kMaxRouted; ++j) {
    if (j < n) load_part(st.in[j] + base, D, y[j]);
  }
  load_part(st.in[active] + base, D, kept);  // y[active] without indexing registers by a runtime value
  part_altup_coefficients(kept, rp, router, D, coefs);
  float ss = 0.0f;
#pragma unroll
  for (int k = 0; k < kMaxRouted; ++k) {
    if (k >= n) continue;
    float out[S];
#pragma unroll
    for (int s = 0; s < S; ++s) {
      float acc = y[k][s];
#pragma unroll
      for (int j = 0; j < kMaxRouted; ++j) {
        if (j < n) acc += coefs[k * n + j] * y[j][s];
      }
      out[s] = acc;
      if (k == active) {
        kept[s] = rounded<T>(acc);  // zero past the row's end, as every y is
        ss += kept[s] * kept[s];
      }
    }
    store_part(st.out[k] + base, D, out);
  }
  const float rstd = rsqrtf(block_sum(ss, scratch) / static_cast<float>(D) + router.eps);
#pragma unroll
  for (int s = 0; s < S; ++s) kept[s] = kept[s] * rstd * norm_weight[s];
  store_part(normed + base, D, kept);
}

template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock)
    rms_norm_add_to_each_kernel(const T* x, const T* weight, float eps, Streams<T> targets, int64_t D, bool early) {
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  float xs[S], w[S], in[kMaxStreams][S];
  begin_chained_after(early, [&] { load_part(weight, D, w); });
  load_part(x + base, D, xs);
#pragma unroll
  for (int t = 0; t < kMaxStreams; ++t) {
    if (t < targets.count) load_part(targets.in[t] + base, D, in[t]);
  }
  const float rstd = part_rstd(xs, D, eps, scratch);
#pragma unroll
  for (int s = 0; s < S; ++s) xs[s] = rounded<T>(xs[s] * rstd * w[s]);
#pragma unroll
  for (int t = 0; t < kMaxStreams; ++t) {
    if (t >= targets.count) continue;
#pragma unroll
    for (int s = 0; s < S; ++s) in[t][s] += xs[s];
    store_part(targets.out[t] + base, D, in[t]);
  }
}

// Up to three tensors normalised (and rotated) in one launch: block b belongs to part p with
// first_block[p] <= b < first_block[p + 1].
template <class T>
struct NormParts {
  const T* x[kMaxNormParts];
  const T* weight[kMaxNormParts];  // null: 1
  T* out[kMaxNormParts];
  int64_t heads[kMaxNormParts];
  bool rotate[kMaxNormParts];
  int64_t first_block[kMaxNormParts + 1];
  int count = 0;
};

// Row r of a part (one head of one token) is normalised into shared memory, then rotated with the
// tables of its token, row r / heads: y[i] = n[i] c[i] -/+ n[i +/- D/2] s[i], as rope.cu does
// (or stored as it is, for a part that is not rotated).
template <class T>
__global__ void rms_norm_rope_kernel(NormParts<T> p, float eps, const T* cos, const T* sin, int64_t D) {
  begin_chained();
  __shared__ float scratch[32];
  extern __shared__ float normed[];  // [D]
  int k = 0;
  while (k + 1 < p.count && blockIdx.x >= p.first_block[k + 1]) ++k;
  const int64_t r = blockIdx.x - p.first_block[k];
  const int64_t base = r * D, table = (r / p.heads[k]) * D, half = D / 2;
  const T* x = p.x[k];
  const T* weight = p.weight[k];
  const float rstd = row_rstd(x + base, D, eps, scratch);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    normed[i] = rounded<T>(load(x + base + i) * rstd * (weight != nullptr ? load(weight + i) : 1.0f));
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    if (!p.rotate[k]) {
      store(p.out[k] + base + i, normed[i]);
      continue;
    }
    const bool first = i < half;
    const float xi = normed[i], xp = normed[first ? i + half : i - half];
    const float c = load(cos + table + i), s = load(sin + table + i);
    store(p.out[k] + base + i, first ? xi * c - xp * s : xi * c + xp * s);
  }
}

// Row r of every y scaled to the RMS of the reference row, each step rounded as the composition
// stores it: mean of the rounded squares, its square root (after the clamp, for the ys), the
// product with the target and the quotient.
template <class T>
__global__ void match_magnitudes_kernel(Streams<T> ys, const T* reference, int64_t D) {
  begin_chained();
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  const auto mean_square = [&](const T* row) {
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      const float v = load(row + base + i);
      ss += rounded<T>(v * v);
    }
    return rounded<T>(block_sum(ss, scratch) / static_cast<float>(D));
  };
  const float target = rounded<T>(sqrtf(mean_square(reference)));
  for (int k = 0; k < ys.count; ++k) {
    const float norm = rounded<T>(sqrtf(rounded<T>(fmaxf(mean_square(ys.in[k]), 1e-5f))));
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      store(ys.out[k] + base + i, rounded<T>(load(ys.in[k] + base + i) * target) / norm);
    }
  }
}

// relu(x - (mean + k * std)) with mean, variance, std, the product and the cutoff each rounded
// as the composition stores them.
template <class T, int S>
__global__ void __launch_bounds__(kMaxBlock)
    gaussian_topk_shift_kernel(const T* x, float multiplier, T* out, int64_t D) {
  begin_chained();
  __shared__ float scratch[32];
  const int64_t base = blockIdx.x * D;
  float xs[S];
  load_part(x + base, D, xs);
  const RowMoments moments = part_moments(xs, D, scratch);
  const float mean = moments.mean;
  const float variance = rounded<T>(moments.squares / static_cast<float>(D));
  const float spread = rounded<T>(rounded<T>(sqrtf(variance)) * multiplier);
  const float cutoff = rounded<T>(rounded<T>(mean) + spread);
#pragma unroll
  for (int s = 0; s < S; ++s) {
    const float shifted = rounded<T>(xs[s] - cutoff);
    xs[s] = shifted > 0.0f ? shifted : 0.0f;
  }
  store_part(out + base, D, xs);
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

template <class T>
Router<T> router_of(const AltUpRouting& r, int64_t D) {
  return {data_of<T>(r.norm_weight),
          data_of<T>(r.router),
          data_of<T>(r.mix),
          static_cast<float>(r.eps),
          static_cast<float>(1.0 / static_cast<double>(D)),
          static_cast<float>(r.offset),
          static_cast<int>(r.router.size(0)),
          static_cast<int>(r.mix.size(0))};
}

// Threads of a block that routes a row: part_threads, and at least one per coefficient.
int routing_threads(const AltUpRouting& r, int64_t D) {
  return std::max(part_threads(D), 32 * static_cast<int>((r.mix.size(0) + 31) / 32));
}

template <class T>
Streams<T> streams_of(const std::vector<Tensor>& in, const std::vector<Tensor>& out) {
  Streams<T> s;
  s.count = static_cast<int>(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    s.in[i] = data_of<T>(in[i]);
    s.out[i] = static_cast<T*>(out[i].data_ptr());
  }
  return s;
}

}  // namespace

bool altup_coefficients_apply(int64_t D, const AltUpRouting& r) {
  return D <= kMaxFusedRow && r.norm_weight.rank() == 1 && r.norm_weight.size(0) == D && r.router.rank() == 2 &&
         r.router.size(1) == D && r.router.size(0) >= 1 && r.router.size(0) <= kMaxRouted && r.mix.rank() == 2 &&
         r.mix.size(1) == r.router.size(0) && r.mix.size(0) >= 1 && r.mix.size(0) <= kMaxMixed;
}

void altup_coefficients(const Tensor& x, const AltUpRouting& r, const Tensor& out) {
  const int64_t D = x.size(-1);
  VG_ASSERT(altup_coefficients_apply(D, r));
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "altup_coefficients", [&](auto tag) {
    using T = decltype(tag);
    const int threads = routing_threads(r, D);
    with_part_size(D, threads, [&](auto part) {
      launch_chained("altup_coefficients", altup_coefficients_kernel<T, decltype(part)::value>, rows_of(x), threads, 0,
                     x.device(), data_of<T>(x), router_of<T>(r, D), static_cast<T*>(out.data_ptr()), D);
    });
  });
}

void altup_predict_then_norm(const std::vector<Tensor>& streams, int64_t active, const AltUpRouting& r,
                             const Tensor& input_norm, const std::vector<Tensor>& pred, const Tensor& normed) {
  const Tensor& x = streams[static_cast<size_t>(active)];
  const int64_t D = x.size(-1);
  VG_ASSERT(altup_coefficients_apply(D, r) && r.mix.size(0) == r.router.size(0) * r.router.size(0) &&
            streams.size() == static_cast<size_t>(r.router.size(0)) && pred.size() == streams.size());
  if (x.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "altup_predict_then_norm", [&](auto tag) {
    using T = decltype(tag);
    const int threads = routing_threads(r, D);
    with_part_size(D, threads, [&](auto part) {
      launch_chained("altup_predict_then_norm", altup_predict_then_norm_kernel<T, decltype(part)::value>, rows_of(x),
                     threads, 0, x.device(), streams_of<T>(streams, pred), router_of<T>(r, D), static_cast<int>(active),
                     data_of<T>(input_norm), static_cast<T*>(normed.data_ptr()), D,
                     constant_while_recording(x.device().index, {input_norm.data_ptr(), r.norm_weight.data_ptr(),
                                                                 r.router.data_ptr(), r.mix.data_ptr()}));
    });
  });
}

void rms_norm_add_then_correct(const Tensor& x, const Tensor& weight, const Tensor& residual,
                               const std::vector<Tensor>& pred, int64_t active, const AltUpRouting& r,
                               const Tensor* output_scale, const Tensor& activated,
                               const std::vector<Tensor>& corrected, const Tensor& scaled) {
  const int64_t D = x.size(-1);
  VG_ASSERT(altup_coefficients_apply(D, r) && pred.size() == static_cast<size_t>(r.mix.size(0)) &&
            corrected.size() == pred.size());
  if (x.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_add_then_correct", [&](auto tag) {
    using T = decltype(tag);
    const int threads = routing_threads(r, D);
    with_part_size(D, threads, [&](auto part) {
      launch_chained(
          "rms_norm_add_then_correct", rms_norm_add_then_correct_kernel<T, decltype(part)::value>, rows_of(x), threads,
          0, x.device(), data_of<T>(x), data_of<T>(weight), data_of<T>(residual), router_of<T>(r, D),
          streams_of<T>(pred, corrected), optional_ptr<const T>(output_scale), static_cast<T*>(activated.data_ptr()),
          static_cast<T*>(scaled.data_ptr()), static_cast<int>(active), D,
          constant_while_recording(x.device().index, {weight.data_ptr(), r.norm_weight.data_ptr(), r.router.data_ptr(),
                                                      r.mix.data_ptr(), optional_ptr<const void>(output_scale)}));
    });
  });
}

void rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends, double scale,
                  const Tensor& out, const Tensor* next_weight, const Tensor* normed, const NormedAddend* branch) {
  VG_ASSERT(!addends.empty() && addends.size() <= 3 && (next_weight == nullptr) == (normed == nullptr));
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_add", [&](auto tag) {
    using T = decltype(tag);
    Addends<T> a;
    for (size_t i = 0; i < addends.size(); ++i) a.a[i] = data_of<T>(addends[i]);
    if (branch != nullptr) {
      a.branch = data_of<T>(branch->x);
      a.branch_weight = data_of<T>(branch->weight);
      a.branch_residual = data_of<T>(branch->residual);
    }
    const int64_t D = x.size(-1);
    with_part_size(D, part_threads(D), [&](auto part) {
      launch_chained(
          "rms_norm_add", rms_norm_add_kernel<T, decltype(part)::value>, rows_of(x), part_threads(D), 0, x.device(),
          data_of<T>(x), data_of<T>(weight), static_cast<float>(eps), a, static_cast<float>(scale),
          static_cast<T*>(out.data_ptr()), optional_ptr<const T>(next_weight), optional_ptr<T>(normed), D,
          constant_while_recording(x.device().index,
                                   {weight.data_ptr(), a.branch_weight, optional_ptr<const void>(next_weight)}));
    });
  });
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
    const Streams<T> s = streams_of<T>(pred, corrected);
    const dim3 grid(rows_of(activated), static_cast<unsigned>(std::min<int64_t>((D + kThreads - 1) / kThreads, 64)));
    launch_chained("altup_correct_streams", altup_correct_kernel<T>, grid, kThreads, 0, activated.device(), s,
                   data_of<T>(activated), data_of<T>(scale), optional_ptr<const T>(output_scale),
                   static_cast<T*>(scaled.data_ptr()), static_cast<int>(active), D);
  });
}

void rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& targets,
                          const std::vector<Tensor>& outs) {
  VG_ASSERT(!targets.empty() && targets.size() <= static_cast<size_t>(kMaxStreams) && outs.size() == targets.size());
  if (x.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "rms_norm_add_to_each", [&](auto tag) {
    using T = decltype(tag);
    const int64_t D = x.size(-1);
    with_part_size(D, part_threads(D), [&](auto part) {
      launch_chained("rms_norm_add_to_each", rms_norm_add_to_each_kernel<T, decltype(part)::value>, rows_of(x),
                     part_threads(D), 0, x.device(), data_of<T>(x), data_of<T>(weight), static_cast<float>(eps),
                     streams_of<T>(targets, outs), D, constant_while_recording(x.device().index, {weight.data_ptr()}));
    });
  });
}

void rms_norm_rope(const std::vector<NormRopePart>& parts, double eps, const Tensor& cos, const Tensor& sin) {
  VG_ASSERT(!parts.empty() && parts.size() <= static_cast<size_t>(kMaxNormParts));
  const Tensor& first = parts.front().x;
  const int64_t D = first.size(-1);
  VG_CHECK(D <= 8192, "rms_norm_rope", "head dim ", D, " is too large for one block's shared memory");
  set_device(first.device().index);
  dispatch_floating(first.dtype(), "rms_norm_rope", [&](auto tag) {
    using T = decltype(tag);
    NormParts<T> p;
    p.count = static_cast<int>(parts.size());
    p.first_block[0] = 0;
    for (int k = 0; k < p.count; ++k) {
      const NormRopePart& part = parts[static_cast<size_t>(k)];
      p.x[k] = data_of<T>(part.x);
      p.weight[k] = optional_ptr<const T>(&part.weight);
      p.out[k] = static_cast<T*>(part.out.data_ptr());
      p.heads[k] = part.x.size(-2);
      p.rotate[k] = part.rotate;
      p.first_block[k + 1] = p.first_block[k] + rows_of(part.x);
    }
    VG_CHECK(p.first_block[p.count] < (int64_t{1} << 31), "rms_norm_rope", "too many rows for one launch");
    if (p.first_block[p.count] == 0) return;
    launch_chained("rms_norm_rope", rms_norm_rope_kernel<T>, static_cast<unsigned>(p.first_block[p.count]),
                   threads_for_row(D), static_cast<size_t>(D) * sizeof(float), first.device(), p,
                   static_cast<float>(eps), data_of<T>(cos), data_of<T>(sin), D);
  });
}

void match_magnitudes(const std::vector<Tensor>& ys, const Tensor& reference, const std::vector<Tensor>& outs) {
  VG_ASSERT(!ys.empty() && ys.size() <= static_cast<size_t>(kMaxStreams) && outs.size() == ys.size());
  if (reference.numel() == 0) return;
  set_device(reference.device().index);
  dispatch_floating(reference.dtype(), "match_magnitudes", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("match_magnitudes", match_magnitudes_kernel<T>, rows_of(reference),
                   threads_for_row(reference.size(-1)), 0, reference.device(), streams_of<T>(ys, outs),
                   data_of<T>(reference), reference.size(-1));
  });
}

void gaussian_topk_shift(const Tensor& x, double multiplier, const Tensor& out) {
  if (out.numel() == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "gaussian_topk_shift", [&](auto tag) {
    using T = decltype(tag);
    const int64_t D = x.size(-1);
    with_part_size<kLongestPart>(D, part_threads(D), [&](auto part) {
      launch_chained("gaussian_topk_shift", gaussian_topk_shift_kernel<T, decltype(part)::value>, rows_of(x),
                     part_threads(D), 0, x.device(), data_of<T>(x), static_cast<float>(multiplier),
                     static_cast<T*>(out.data_ptr()), D);
    });
  });
}

}  // namespace vg::cuda
