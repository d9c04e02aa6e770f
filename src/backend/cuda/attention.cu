// CUDA scaled dot-product attention with the CPU's contract (src/backend/cpu/attention.h):
// causal, sliding-window and boolean/additive masks, grouped-query heads, any head dim up to
// 256. Flash-attention style: the score matrix is never stored. The forward keeps a running max
// and sum per query row (online softmax) and saves each row's logsumexp; the backward recomputes
// probabilities from it. The shapes the models run in bf16/f16 go to the tensor-core kernels of
// flash_attention.cu; these kernels, one warp per row on CUDA cores (f32 math, key/value tiles
// shared through shared memory), take the rest: f32, additive or per-query masks, other head dims.
#include <cmath>

#include "backend/cuda/attention_common.cuh"
#include "backend/cuda/decode_attention.h"
#include "backend/cuda/flash_attention.h"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

constexpr int kMaxHeadDim = 256;
constexpr int kPerLane = kMaxHeadDim / 32;  // head-dim elements each lane holds
constexpr int kRowsPerBlock = 8;            // one warp per query (or key) row
constexpr int kKeysPerTile = 16;

// Loads D elements of a row, lane-strided: lane l holds elements l, l + 32, ... (0 beyond D).
template <class T>
__device__ void load_row(const T* row, int64_t n, float (&out)[kPerLane]) {
  const int lane = threadIdx.x % 32;
  for (int e = 0; e < kPerLane; ++e) {
    const int64_t d = lane + 32 * e;
    out[e] = d < n ? load(row + d) : 0.0f;
  }
}

__device__ float dot_lanes(const float (&a)[kPerLane], const float* b_shared, int64_t n) {
  const int lane = threadIdx.x % 32;
  float s = 0.0f;
  for (int e = 0; e < kPerLane; ++e) {
    const int64_t d = lane + 32 * e;
    if (d < n) s += a[e] * b_shared[d];
  }
  return warp_sum(s);
}

// Copies keys [j0, j0 + count) of (b, kv head) into shared [kKeysPerTile, n] tiles.
template <class T>
__device__ void load_tile(const View<const T>& src, int64_t b, int64_t h, int64_t j0, int count, int64_t n,
                          float* tile) {
  for (int64_t t = threadIdx.x; t < count * n; t += blockDim.x) {
    const int64_t r = t / n, d = t % n;
    tile[r * n + d] = load(src.row(b, h, j0 + r) + d);
  }
}

// grid (ceil(Lq / 8), Hq, B), 8 warps: warp w owns query row blockIdx.x * 8 + w.
template <class T>
__global__ void attention_forward_kernel(View<const T> q, View<const T> k, View<const T> v, Mask<T> mask, Geometry g,
                                         View<T> out, float* lse) {
  extern __shared__ float shared[];
  float* k_tile = shared;                            // [kKeysPerTile, D]
  float* v_tile = shared + kKeysPerTile * g.D;       // [kKeysPerTile, Dv]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kv = h / (g.Hq / g.Hkv);
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp;
  const bool active = i < g.Lq;
  float qr[kPerLane], acc[kPerLane];
  if (active) load_row(q.row(b, h, i), g.D, qr);
  for (int e = 0; e < kPerLane; ++e) acc[e] = 0.0f;
  float running_max = -INFINITY, running_sum = 0.0f;
  for (int64_t j0 = 0; j0 < g.Lk; j0 += kKeysPerTile) {
    const int count = static_cast<int>(smaller(kKeysPerTile, g.Lk - j0));
    __syncthreads();
    load_tile(k, b, kv, j0, count, g.D, k_tile);
    load_tile(v, b, kv, j0, count, g.Dv, v_tile);
    __syncthreads();
    if (!active) continue;
    for (int r = 0; r < count; ++r) {
      const int64_t j = j0 + r;
      if (!g.visible(i, j)) continue;
      const float s = dot_lanes(qr, k_tile + r * g.D, g.D) * g.scale + mask.bias(b, h, i, j);
      if (s == -INFINITY) continue;
      const float new_max = fmaxf(running_max, s);
      const float rescale = expf(running_max - new_max), p = expf(s - new_max);
      running_sum = running_sum * rescale + p;
      for (int e = 0; e < kPerLane; ++e) {
        const int64_t d = lane + 32 * e;
        acc[e] = acc[e] * rescale + (d < g.Dv ? p * v_tile[r * g.Dv + d] : 0.0f);
      }
      running_max = new_max;
    }
  }
  if (!active) return;
  const bool sees_nothing = running_sum == 0.0f;
  const float inv = sees_nothing ? 0.0f : 1.0f / running_sum;
  T* o = out.row(b, h, i);
  for (int e = 0; e < kPerLane; ++e) {
    const int64_t d = lane + 32 * e;
    if (d < g.Dv) store(o + d, acc[e] * inv);
  }
  if (lane == 0) lse[(b * g.Hq + h) * g.Lq + i] = sees_nothing ? -INFINITY : running_max + logf(running_sum);
}

// delta[row] = sum_d dout[row, d] * out[row, d]: one warp per row.
template <class T>
__global__ void attention_delta_kernel(View<const T> out, View<const T> dout, Geometry g, float* delta) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp;
  if (row >= g.B * g.Hq * g.Lq) return;
  const int64_t i = row % g.Lq, h = (row / g.Lq) % g.Hq, b = row / (g.Lq * g.Hq);
  float s = 0.0f;
  for (int64_t d = lane; d < g.Dv; d += 32) s += load(out.row(b, h, i) + d) * load(dout.row(b, h, i) + d);
  s = warp_sum(s);
  if (lane == 0) delta[row] = s;
}

// dq[i] = scale * sum_j p_ij (dp_ij - delta_i) k_j with dp_ij = dout_i . v_j; one warp per query row.
template <class T>
__global__ void attention_dq_kernel(View<const T> q, View<const T> k, View<const T> v, Mask<T> mask, Geometry g,
                                    const float* lse, const float* delta, View<const T> dout, View<T> dq) {
  extern __shared__ float shared[];
  float* k_tile = shared;
  float* v_tile = shared + kKeysPerTile * g.D;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kv = h / (g.Hq / g.Hkv);
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp;
  const bool active = i < g.Lq;
  float qr[kPerLane], dor[kPerLane], acc[kPerLane];
  float row_lse = -INFINITY, row_delta = 0.0f;
  if (active) {
    load_row(q.row(b, h, i), g.D, qr);
    load_row(dout.row(b, h, i), g.Dv, dor);
    row_lse = lse[(b * g.Hq + h) * g.Lq + i];
    row_delta = delta[(b * g.Hq + h) * g.Lq + i];
  }
  for (int e = 0; e < kPerLane; ++e) acc[e] = 0.0f;
  for (int64_t j0 = 0; j0 < g.Lk; j0 += kKeysPerTile) {
    const int count = static_cast<int>(smaller(kKeysPerTile, g.Lk - j0));
    __syncthreads();
    load_tile(k, b, kv, j0, count, g.D, k_tile);
    load_tile(v, b, kv, j0, count, g.Dv, v_tile);
    __syncthreads();
    if (!active || row_lse == -INFINITY) continue;
    for (int r = 0; r < count; ++r) {
      const int64_t j = j0 + r;
      if (!g.visible(i, j)) continue;
      const float s = dot_lanes(qr, k_tile + r * g.D, g.D) * g.scale + mask.bias(b, h, i, j);
      if (s == -INFINITY) continue;
      const float p = expf(s - row_lse);
      const float dp = dot_lanes(dor, v_tile + r * g.Dv, g.Dv);
      const float ds = p * (dp - row_delta) * g.scale;
      for (int e = 0; e < kPerLane; ++e) {
        const int64_t d = lane + 32 * e;
        if (d < g.D) acc[e] += ds * k_tile[r * g.D + d];
      }
    }
  }
  if (!active) return;
  T* out = dq.row(b, h, i);
  for (int e = 0; e < kPerLane; ++e) {
    const int64_t d = lane + 32 * e;
    if (d < g.D) store(out + d, acc[e]);
  }
}

// dv[j] = sum_i p_ij dout_i and dk[j] = scale * sum_i p_ij (dp_ij - delta_i) q_i over every query
// head of kv head h: one warp per key row, query rows shared through shared-memory tiles.
template <class T>
__global__ void attention_dkv_kernel(View<const T> q, View<const T> k, View<const T> v, Mask<T> mask, Geometry g,
                                     const float* lse, const float* delta, View<const T> dout, View<T> dk,
                                     View<T> dv) {
  extern __shared__ float shared[];
  float* q_tile = shared;                          // [kKeysPerTile, D]
  float* do_tile = shared + kKeysPerTile * g.D;    // [kKeysPerTile, Dv]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp;
  const bool active = j < g.Lk;
  float kr[kPerLane], vr[kPerLane], dk_acc[kPerLane], dv_acc[kPerLane];
  if (active) {
    load_row(k.row(b, h, j), g.D, kr);
    load_row(v.row(b, h, j), g.Dv, vr);
  }
  for (int e = 0; e < kPerLane; ++e) dk_acc[e] = dv_acc[e] = 0.0f;
  const int64_t group = g.Hq / g.Hkv;
  for (int64_t hq = h * group; hq < (h + 1) * group; ++hq) {
    for (int64_t i0 = 0; i0 < g.Lq; i0 += kKeysPerTile) {
      const int count = static_cast<int>(smaller(kKeysPerTile, g.Lq - i0));
      __syncthreads();
      load_tile(q, b, hq, i0, count, g.D, q_tile);
      load_tile(dout, b, hq, i0, count, g.Dv, do_tile);
      __syncthreads();
      if (!active) continue;
      for (int r = 0; r < count; ++r) {
        const int64_t i = i0 + r;
        if (!g.visible(i, j)) continue;
        const float row_lse = lse[(b * g.Hq + hq) * g.Lq + i];
        if (row_lse == -INFINITY) continue;
        const float s = dot_lanes(kr, q_tile + r * g.D, g.D) * g.scale + mask.bias(b, hq, i, j);
        if (s == -INFINITY) continue;
        const float p = expf(s - row_lse);
        const float dp = dot_lanes(vr, do_tile + r * g.Dv, g.Dv);
        const float ds = p * (dp - delta[(b * g.Hq + hq) * g.Lq + i]) * g.scale;
        for (int e = 0; e < kPerLane; ++e) {
          const int64_t d = lane + 32 * e;
          if (d < g.Dv) dv_acc[e] += p * do_tile[r * g.Dv + d];
          if (d < g.D) dk_acc[e] += ds * q_tile[r * g.D + d];
        }
      }
    }
  }
  if (!active) return;
  for (int e = 0; e < kPerLane; ++e) {
    const int64_t d = lane + 32 * e;
    if (dk.data != nullptr && d < g.D) store(dk.row(b, h, j) + d, dk_acc[e]);
    if (dv.data != nullptr && d < g.Dv) store(dv.row(b, h, j) + d, dv_acc[e]);
  }
}

size_t tile_bytes(int64_t a, int64_t b) { return static_cast<size_t>(kKeysPerTile * (a + b)) * sizeof(float); }


}  // namespace

Geometry geometry_of(const Tensor& q, const Tensor& k, const Tensor& v, const cpu::AttentionParams& p) {
  Geometry g{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3), v.size(3),
             p.causal,  p.window,  p.query_offset, static_cast<float>(p.scale)};
  VG_CHECK(g.D <= kMaxHeadDim && g.Dv <= kMaxHeadDim, "scaled_dot_product_attention", "head dims ", g.D, " and ",
           g.Dv, " exceed ", kMaxHeadDim, " on cuda");
  VG_CHECK(g.Hq <= 65535 && g.B <= 65535, "scaled_dot_product_attention", "too many heads or batches for one launch");
  return g;
}

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                       const cpu::AttentionParams& params, const Tensor& out, const Tensor& lse) {
  const Geometry g = geometry_of(q, k, v, params);
  if (g.B * g.Hq * g.Lq == 0) return;
  set_device(q.device().index);
  if (decode::supports(g, q.dtype())) {
    decode::forward(q, k, v, mask, g, out, lse);
    return;
  }
  if (flash::supports(g, q.dtype(), mask, {&q, &k, &v, &out}, q.device())) {
    flash::forward(q, k, v, mask, g, out, lse);
    return;
  }
  dispatch_floating(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(static_cast<unsigned>((g.Lq + kRowsPerBlock - 1) / kRowsPerBlock), static_cast<unsigned>(g.Hq),
                    static_cast<unsigned>(g.B));
    attention_forward_kernel<T><<<grid, 32 * kRowsPerBlock, tile_bytes(g.D, g.Dv), stream(q.device())>>>(
        view_of<const T>(q), view_of<const T>(k), view_of<const T>(v), mask_of<T>(mask), g, view_of<T>(out),
        f32_data(lse, "scaled_dot_product_attention", "the logsumexp"));
  });
  check_launch("attention forward");
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask,
                        const cpu::AttentionParams& params, const Tensor& out, const Tensor& lse, const Tensor& dout,
                        const Tensor* dq, const Tensor* dk, const Tensor* dv) {
  const Geometry g = geometry_of(q, k, v, params);
  set_device(q.device().index);
  cudaStream_t s = stream(q.device());
  Tensor delta = Tensor::empty({g.B, g.Hq, g.Lq}, DType::F32, q.device());
  dispatch_floating(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    const float* row_lse = f32_data(lse, "scaled_dot_product_attention", "the logsumexp");
    const int64_t rows = g.B * g.Hq * g.Lq;
    if (rows > 0) {
      attention_delta_kernel<T><<<static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock), 32 * kRowsPerBlock,
                                  0, s>>>(view_of<const T>(out), view_of<const T>(dout), g, delta.data<float>());
    }
    if (flash::supports(g, q.dtype(), mask, {&q, &k, &v, &dout, dq, dk, dv}, q.device())) {
      flash::backward(q, k, v, mask, g, lse, delta, dout, dq, dk, dv);
      return;
    }
    if (dq != nullptr && rows > 0) {
      const dim3 grid(static_cast<unsigned>((g.Lq + kRowsPerBlock - 1) / kRowsPerBlock), static_cast<unsigned>(g.Hq),
                      static_cast<unsigned>(g.B));
      attention_dq_kernel<T><<<grid, 32 * kRowsPerBlock, tile_bytes(g.D, g.Dv), s>>>(
          view_of<const T>(q), view_of<const T>(k), view_of<const T>(v), mask_of<T>(mask), g, row_lse,
          delta.data<float>(), view_of<const T>(dout), view_of<T>(*dq));
    }
    if ((dk != nullptr || dv != nullptr) && g.B * g.Hkv * g.Lk > 0) {
      const dim3 grid(static_cast<unsigned>((g.Lk + kRowsPerBlock - 1) / kRowsPerBlock), static_cast<unsigned>(g.Hkv),
                      static_cast<unsigned>(g.B));
      const View<T> none{nullptr, 0, 0, 0};
      attention_dkv_kernel<T><<<grid, 32 * kRowsPerBlock, tile_bytes(g.D, g.Dv), s>>>(
          view_of<const T>(q), view_of<const T>(k), view_of<const T>(v), mask_of<T>(mask), g, row_lse,
          delta.data<float>(), view_of<const T>(dout), dk != nullptr ? view_of<T>(*dk) : none,
          dv != nullptr ? view_of<T>(*dv) : none);
    }
  });
  check_launch("attention backward");
}

}  // namespace vg::cuda
