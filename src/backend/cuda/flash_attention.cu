// Flash attention on tensor cores, FlashAttention-2's schedule on mma.sync m16n8k16 (mma.cuh):
// - forward: a block of 4 warps owns 64 query rows (16 per warp) and walks the key tiles its
//   causal and sliding windows can see; scores, the online softmax and the output accumulate in
//   registers (f32), the probabilities go to the P·V product as A fragments as they stand;
// - backward, deterministic (no atomics), as attention.cu's CUDA-core kernels split it: a dq
//   kernel by query rows, and a dk/dv kernel by key rows that sums over the query heads sharing a
//   kv head. Both recompute the probabilities from the forward's logsumexp. At head dim 256 the
//   dk and dv accumulators do not fit in registers together, so they are two launches.
// Softmax runs in base 2 (exp2f), with the scale folded into log2(e); lse is kept in natural log
// as the CPU's contract says.
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

#include "backend/cuda/flash_attention.h"
#include "backend/cuda/mma.cuh"

namespace vg::cuda::flash {
namespace {

constexpr int kWarps = 4;
constexpr int kRows = 16 * kWarps;  // query rows of a forward/dq block, key rows of a dk/dv block
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr unsigned kAll = 0xffffffffu;

template <int D>
struct Tiles {
  static constexpr int kPitch = D + 8;                // shared row pitch: ldmatrix rows on distinct banks
  static constexpr int kKeys = D == 256 ? 32 : 64;    // key rows per tile (forward, dq)
  static constexpr int kQueries = D >= 128 ? 32 : 64;  // query rows per tile (dk/dv)
  static constexpr bool kSplitKV = D == 256;           // dk and dv in separate launches

  static constexpr size_t forward_bytes(size_t element) { return (kRows + 2 * kKeys) * kPitch * element; }
  static constexpr size_t dq_bytes(size_t element) { return (2 * kRows + 2 * kKeys) * kPitch * element; }
  static constexpr size_t dkv_bytes(size_t element) {
    return (2 * kRows + 2 * kQueries) * kPitch * element + 2 * kQueries * sizeof(float);
  }
};

// A bool/u8 "may attend" per (batch, key), broadcast over heads and query rows.
struct KeyMask {
  const uint8_t* data = nullptr;
  int64_t batch_stride = 0, key_stride = 0;
  __device__ bool allows(int64_t b, int64_t j) const {
    return data == nullptr || data[b * batch_stride + j * key_stride] != 0;
  }
};

KeyMask key_mask_of(const Tensor* mask) {
  const Mask<float> m = mask_of<float>(mask);
  return {static_cast<const uint8_t*>(m.data), m.s[0], m.s[3]};
}

struct Range {
  int64_t begin, end;
};

// Keys that query rows [first, last] can see by position.
__host__ __device__ Range key_range(const Geometry& g, int64_t first, int64_t last) {
  const int64_t begin = g.window > 0 ? g.query_offset + first - g.window + 1 : 0;
  const int64_t end = g.causal ? g.query_offset + last + 1 : g.Lk;
  return {begin < 0 ? 0 : begin, smaller(end, g.Lk)};
}

// Query rows that keys [first, last] are visible to by position.
__device__ Range query_range(const Geometry& g, int64_t first, int64_t last) {
  const int64_t begin = g.causal ? first - g.query_offset : 0;
  const int64_t end = g.window > 0 ? last + g.window - g.query_offset : g.Lq;
  return {begin < 0 ? 0 : begin, smaller(end, g.Lq)};
}

// Starts copying rows [first, first + rows) of (b, h) into a [rows][kPitch] shared tile; rows at
// or past `limit` become zeros. mma::wait_async_copies + __syncthreads() complete it.
template <class T, int D>
__device__ void load_tile(const View<const T>& src, int64_t b, int64_t h, int64_t first, int rows, int64_t limit,
                          T* tile) {
  constexpr int kChunks = D / 8;  // 16-byte pieces per row
  for (int t = threadIdx.x; t < rows * kChunks; t += blockDim.x) {
    const int r = t / kChunks, piece = t % kChunks;
    const bool valid = first + r < limit;
    mma::copy_async_16(tile + r * Tiles<D>::kPitch + piece * 8, src.row(b, h, valid ? first + r : 0) + piece * 8,
                       valid);
  }
}

// Replaces the block's key and value tiles with keys [j0, j0 + kKeys) of (b, kv head), once
// every warp is done with the previous ones.
template <class T, int D>
__device__ void load_key_tiles(const View<const T>& k, const View<const T>& v, int64_t b, int64_t kv, int64_t j0,
                               int64_t lk, T* k_tile, T* v_tile) {
  __syncthreads();
  load_tile<T, D>(k, b, kv, j0, Tiles<D>::kKeys, lk, k_tile);
  load_tile<T, D>(v, b, kv, j0, Tiles<D>::kKeys, lk, v_tile);
  mma::wait_async_copies();
  __syncthreads();
}

// Whether query row i (< Lq) sees key j: in range, by position, and by the key mask.
__device__ __forceinline__ bool sees(const Geometry& g, const KeyMask& mask, int64_t b, int64_t i, int64_t j) {
  return j < g.Lk && g.visible(i, j) && mask.allows(b, j);
}

// acc[16 x N] += A B^T for the 16 rows of A at `a` and the N rows of B at `b`, both [.][D] tiles.
template <class T, int D, int N>
__device__ __forceinline__ void multiply_by_transposed(const T* a, const T* b, float (&acc)[N / 8][4]) {
  constexpr int P = Tiles<D>::kPitch;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    uint32_t fa[4];
    mma::load_x4(fa, a + (lane % 16) * P + kk * 16 + (lane / 16) * 8);
#pragma unroll
    for (int np = 0; np < N / 16; ++np) {
      uint32_t fb[4];
      mma::load_x4(fb, b + (np * 16 + (lane / 16) * 8 + lane % 8) * P + kk * 16 + ((lane / 8) % 2) * 8);
      mma::multiply_accumulate<T>(acc[2 * np], fa, fb[0], fb[1]);
      mma::multiply_accumulate<T>(acc[2 * np + 1], fa, fb[2], fb[3]);
    }
  }
}

// acc[16 x D] += X B, X [16 x M] held as accumulators (C layout, M = 8 * count), B the M rows of
// a [.][D] tile at `b`.
template <class T, int D, int M>
__device__ __forceinline__ void multiply_accumulators(const float (&x)[M][4], const T* b, float (&acc)[D / 8][4]) {
  constexpr int P = Tiles<D>::kPitch;
  const int lane = threadIdx.x % 32;
#pragma unroll
  for (int ks = 0; ks < M / 2; ++ks) {
    uint32_t fa[4];
    mma::accumulators_as_a<T>(x, ks, fa);
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t fb[4];
      mma::load_x4_transposed(fb, b + (ks * 16 + lane % 16) * P + dp * 16 + (lane / 16) * 8);
      mma::multiply_accumulate<T>(acc[2 * dp], fa, fb[0], fb[1]);
      mma::multiply_accumulate<T>(acc[2 * dp + 1], fa, fb[2], fb[3]);
    }
  }
}

// Writes this thread's two rows (row0 and row0 + 8) of a [16 x D] accumulator, times factor[r],
// to rows of `dst` (rows at or past `limit` are skipped).
template <class T, int D>
__device__ __forceinline__ void store_rows(const float (&acc)[D / 8][4], const float (&factor)[2], const View<T>& dst,
                                           int64_t b, int64_t h, int64_t row0, int64_t limit) {
  const int c = threadIdx.x % 4;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (row0 + 8 * r >= limit) continue;
    T* out = dst.row(b, h, row0 + 8 * r);
#pragma unroll
    for (int nt = 0; nt < D / 8; ++nt) {
      *reinterpret_cast<uint32_t*>(out + nt * 8 + 2 * c) =
          pack<T>(acc[nt][2 * r] * factor[r], acc[nt][2 * r + 1] * factor[r]);
    }
  }
}

__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(kAll, v, 1));
  return fmaxf(v, __shfl_xor_sync(kAll, v, 2));
}

__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(kAll, v, 1);
  return v + __shfl_xor_sync(kAll, v, 2);
}

// The logsumexp of a row in base 2, +inf for a row that sees nothing (so that its exp2 is 0).
__device__ __forceinline__ float lse_base2(float lse) { return lse == -INFINITY ? INFINITY : lse * kLog2e; }

// grid (ceil(Lq / 64), Hq, B), 4 warps; warp w owns query rows q0 + 16 w .. + 15.
template <class T, int D>
__global__ void __launch_bounds__(32 * kWarps) forward_kernel(View<const T> q, View<const T> k, View<const T> v,
                                                              KeyMask mask, Geometry g, View<T> out, float* lse) {
#if VG_HAVE_MMA
  using Tile = Tiles<D>;
  constexpr int P = Tile::kPitch, kKeys = Tile::kKeys;
  extern __shared__ __align__(16) unsigned char shared[];
  T* q_tile = reinterpret_cast<T*>(shared);  // [64][P]
  T* k_tile = q_tile + kRows * P;            // [kKeys][P]
  T* v_tile = k_tile + kKeys * P;            // [kKeys][P]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kv = h / (g.Hq / g.Hkv);
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kRows, row0 = q0 + warp * 16 + lane / 4;
  load_tile<T, D>(q, b, h, q0, kRows, g.Lq, q_tile);
  const Range keys = key_range(g, q0, smaller(q0 + kRows, g.Lq) - 1);
  const float scale = g.scale * kLog2e;

  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
  for (int64_t j0 = keys.begin; j0 < keys.end; j0 += kKeys) {
    load_key_tiles<T, D>(k, v, b, kv, j0, g.Lk, k_tile, v_tile);

    float s[kKeys / 8][4] = {};  // [16 x kKeys] scores of this warp's rows
    multiply_by_transposed<T, D, kKeys>(q_tile + warp * 16 * P, k_tile, s);
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t i = row0 + 8 * (e / 2), j = j0 + nt * 8 + 2 * (lane % 4) + (e & 1);
        const bool seen = i < g.Lq && sees(g, mask, b, i, j);
        s[nt][e] = seen ? s[nt][e] * scale : -INFINITY;
        tile_max[e / 2] = fmaxf(tile_max[e / 2], s[nt][e]);
      }
    }
    float base[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float new_max = fmaxf(m[r], quad_max(tile_max[r]));
      base[r] = new_max == -INFINITY ? 0.0f : new_max;  // nothing seen yet: every p is 0
      const float rescale = exp2f(m[r] - base[r]);
      m[r] = new_max;
      l[r] *= rescale;
#pragma unroll
      for (int nt = 0; nt < D / 8; ++nt) {
        o[nt][2 * r] *= rescale;
        o[nt][2 * r + 1] *= rescale;
      }
    }
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nt][e] = exp2f(s[nt][e] - base[e / 2]);
        l[e / 2] += s[nt][e];
      }
    }
    multiply_accumulators<T, D, kKeys / 8>(s, v_tile, o);  // o += P V
  }

  float inverse[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] = quad_sum(l[r]);
    inverse[r] = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
    const int64_t i = row0 + 8 * r;
    if (lane % 4 == 0 && i < g.Lq) {
      lse[(b * g.Hq + h) * g.Lq + i] = l[r] > 0.0f ? (m[r] + log2f(l[r])) * kLn2 : -INFINITY;
    }
  }
  store_rows<T, D>(o, inverse, out, b, h, row0, g.Lq);
#endif
}

// dq[i] = scale * sum_j p_ij (dp_ij - delta_i) k_j, dp = dout v^T. grid and warps as the forward.
template <class T, int D>
__global__ void __launch_bounds__(32 * kWarps) dq_kernel(View<const T> q, View<const T> k, View<const T> v,
                                                         KeyMask mask, Geometry g, const float* lse,
                                                         const float* delta, View<const T> dout, View<T> dq) {
#if VG_HAVE_MMA
  using Tile = Tiles<D>;
  constexpr int P = Tile::kPitch, kKeys = Tile::kKeys;
  extern __shared__ __align__(16) unsigned char shared[];
  T* q_tile = reinterpret_cast<T*>(shared);  // [64][P]
  T* do_tile = q_tile + kRows * P;           // [64][P]
  T* k_tile = do_tile + kRows * P;           // [kKeys][P]
  T* v_tile = k_tile + kKeys * P;            // [kKeys][P]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y, kv = h / (g.Hq / g.Hkv);
  const int64_t q0 = static_cast<int64_t>(blockIdx.x) * kRows, row0 = q0 + warp * 16 + lane / 4;
  load_tile<T, D>(q, b, h, q0, kRows, g.Lq, q_tile);
  load_tile<T, D>(dout, b, h, q0, kRows, g.Lq, do_tile);
  float row_lse[2], row_delta[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t i = row0 + 8 * r, at = (b * g.Hq + h) * g.Lq + i;
    row_lse[r] = i < g.Lq ? lse_base2(lse[at]) : INFINITY;
    row_delta[r] = i < g.Lq ? delta[at] : 0.0f;
  }
  const Range keys = key_range(g, q0, smaller(q0 + kRows, g.Lq) - 1);
  const float scale = g.scale * kLog2e;

  float acc[D / 8][4] = {};
  for (int64_t j0 = keys.begin; j0 < keys.end; j0 += kKeys) {
    load_key_tiles<T, D>(k, v, b, kv, j0, g.Lk, k_tile, v_tile);

    float s[kKeys / 8][4] = {}, dp[kKeys / 8][4] = {};
    multiply_by_transposed<T, D, kKeys>(q_tile + warp * 16 * P, k_tile, s);
    multiply_by_transposed<T, D, kKeys>(do_tile + warp * 16 * P, v_tile, dp);
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = e / 2;
        const int64_t i = row0 + 8 * r, j = j0 + nt * 8 + 2 * (lane % 4) + (e & 1);
        const bool seen = i < g.Lq && sees(g, mask, b, i, j);
        const float p = seen ? exp2f(s[nt][e] * scale - row_lse[r]) : 0.0f;
        s[nt][e] = p * (dp[nt][e] - row_delta[r]) * g.scale;  // ds
      }
    }
    multiply_accumulators<T, D, kKeys / 8>(s, k_tile, acc);  // dq += ds k
  }
  const float one[2] = {1.0f, 1.0f};
  store_rows<T, D>(acc, one, dq, b, h, row0, g.Lq);
#endif
}

// dv[j] = sum_i p_ij dout_i, dk[j] = scale * sum_i p_ij (dp_ij - delta_i) q_i, over every query
// head of kv head blockIdx.y. grid (ceil(Lk / 64), Hkv, B), 4 warps; warp w owns key rows
// j0 + 16 w .. + 15 and works on transposed scores (keys as rows).
template <class T, int D, bool kGradK, bool kGradV>
__global__ void __launch_bounds__(32 * kWarps) dkv_kernel(View<const T> q, View<const T> k, View<const T> v,
                                                          KeyMask mask, Geometry g, const float* lse,
                                                          const float* delta, View<const T> dout, View<T> dk,
                                                          View<T> dv) {
#if VG_HAVE_MMA
  using Tile = Tiles<D>;
  constexpr int P = Tile::kPitch, kQueries = Tile::kQueries;
  extern __shared__ __align__(16) unsigned char shared[];
  T* k_tile = reinterpret_cast<T*>(shared);  // [64][P]
  T* v_tile = k_tile + kRows * P;            // [64][P]
  T* q_tile = v_tile + kRows * P;            // [kQueries][P]
  T* do_tile = q_tile + kQueries * P;        // [kQueries][P]
  float* lse_tile = reinterpret_cast<float*>(do_tile + kQueries * P);  // [kQueries], base 2
  float* delta_tile = lse_tile + kQueries;                               // [kQueries]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int64_t j0 = static_cast<int64_t>(blockIdx.x) * kRows, key0 = j0 + warp * 16 + lane / 4;
  load_tile<T, D>(k, b, h, j0, kRows, g.Lk, k_tile);
  if (kGradK) load_tile<T, D>(v, b, h, j0, kRows, g.Lk, v_tile);
  bool key_seen[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) key_seen[r] = key0 + 8 * r < g.Lk && mask.allows(b, key0 + 8 * r);
  const Range queries = query_range(g, j0, smaller(j0 + kRows, g.Lk) - 1);
  const float scale = g.scale * kLog2e;

  float dk_acc[kGradK ? D / 8 : 1][4] = {}, dv_acc[kGradV ? D / 8 : 1][4] = {};
  const int64_t group = g.Hq / g.Hkv;
  for (int64_t hq = h * group; hq < (h + 1) * group; ++hq) {
    for (int64_t i0 = queries.begin; i0 < queries.end; i0 += kQueries) {
      __syncthreads();
      load_tile<T, D>(q, b, hq, i0, kQueries, g.Lq, q_tile);
      load_tile<T, D>(dout, b, hq, i0, kQueries, g.Lq, do_tile);
      for (int t = threadIdx.x; t < kQueries; t += blockDim.x) {
        const int64_t i = i0 + t, at = (b * g.Hq + hq) * g.Lq + i;
        lse_tile[t] = i < g.Lq ? lse_base2(lse[at]) : INFINITY;
        delta_tile[t] = i < g.Lq ? delta[at] : 0.0f;
      }
      mma::wait_async_copies();
      __syncthreads();

      float st[kQueries / 8][4] = {};  // [16 keys x kQueries] transposed scores, then probabilities
      multiply_by_transposed<T, D, kQueries>(k_tile + warp * 16 * P, q_tile, st);
#pragma unroll
      for (int nt = 0; nt < kQueries / 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int col = nt * 8 + 2 * (lane % 4) + (e & 1);
          const int64_t i = i0 + col, j = key0 + 8 * (e / 2);
          const bool seen = key_seen[e / 2] && i < g.Lq && g.visible(i, j);
          st[nt][e] = seen ? exp2f(st[nt][e] * scale - lse_tile[col]) : 0.0f;
        }
      }
      if constexpr (kGradV) multiply_accumulators<T, D, kQueries / 8>(st, do_tile, dv_acc);  // dv += p^T dout
      if constexpr (kGradK) {
        float dpt[kQueries / 8][4] = {};  // (dout v^T)^T
        multiply_by_transposed<T, D, kQueries>(v_tile + warp * 16 * P, do_tile, dpt);
#pragma unroll
        for (int nt = 0; nt < kQueries / 8; ++nt) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int col = nt * 8 + 2 * (lane % 4) + (e & 1);
            st[nt][e] *= (dpt[nt][e] - delta_tile[col]) * g.scale;  // ds^T
          }
        }
        multiply_accumulators<T, D, kQueries / 8>(st, q_tile, dk_acc);  // dk += ds^T q
      }
    }
  }
  const float one[2] = {1.0f, 1.0f};
  if constexpr (kGradK) store_rows<T, D>(dk_acc, one, dk, b, h, key0, g.Lk);
  if constexpr (kGradV) store_rows<T, D>(dv_acc, one, dv, b, h, key0, g.Lk);
#endif
}

// ---- host side ----

template <class F>
bool with_head_dim(int64_t d, F&& f) {
  switch (d) {
    case 64: f(std::integral_constant<int, 64>{}); return true;
    case 128: f(std::integral_constant<int, 128>{}); return true;
    case 256: f(std::integral_constant<int, 256>{}); return true;
    default: return false;
  }
}

template <class F>
void with_half_type(DType dtype, F&& f) {
  if (dtype == DType::BF16) {
    f(__nv_bfloat16{});
  } else {
    f(__half{});
  }
}

bool aligned(const Tensor& t) {
  const bool strides = t.stride(0) % 8 == 0 && t.stride(1) % 8 == 0 && t.stride(2) % 8 == 0 && t.stride(3) == 1;
  return strides && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

template <class Kernel>
void launch(Kernel kernel, dim3 grid, size_t bytes, cudaStream_t s, const char* what, auto&&... args) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)), what);
  kernel<<<grid, 32 * kWarps, bytes, s>>>(args...);
  check_launch(what);
}

dim3 grid_of(int64_t rows, int64_t heads, int64_t batch) {
  return dim3(static_cast<unsigned>((rows + kRows - 1) / kRows), static_cast<unsigned>(heads),
              static_cast<unsigned>(batch));
}

}  // namespace

bool supports(const Geometry& g, DType dtype, const Tensor* mask, std::initializer_list<const Tensor*> operands,
              Device device) {
  if (dtype != DType::BF16 && dtype != DType::F16) return false;
  if (g.D != g.Dv || g.Lq == 0 || g.Lk == 0) return false;
  size_t bytes = 0;
  if (!with_head_dim(g.D, [&](auto d) {
        using Tile = Tiles<decltype(d)::value>;
        bytes = std::max(Tile::forward_bytes(2), std::max(Tile::dq_bytes(2), Tile::dkv_bytes(2)));
      })) {
    return false;
  }
  if (mask != nullptr) {
    if (is_floating(mask->dtype())) return false;
    const Mask<float> m = mask_of<float>(mask);
    if (m.s[1] != 0 || m.s[2] != 0) return false;  // varies by head or query row
  }
  for (const Tensor* t : operands) {
    if (t != nullptr && !aligned(*t)) return false;
  }
  const Capabilities& gpu = capabilities(device.index);
  return gpu.major >= 8 && bytes <= gpu.shared_per_block;
}

void forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
             const Tensor& out, const Tensor& lse) {
  with_half_type(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    with_head_dim(g.D, [&](auto d) {
      constexpr int D = decltype(d)::value;
      launch(forward_kernel<T, D>, grid_of(g.Lq, g.Hq, g.B), Tiles<D>::forward_bytes(sizeof(T)), stream(q.device()),
             "flash attention forward", view_of<const T>(q), view_of<const T>(k), view_of<const T>(v),
             key_mask_of(mask), g, view_of<T>(out), lse.data<float>());
    });
  });
}

void backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
              const Tensor& lse, const Tensor& delta, const Tensor& dout, const Tensor* dq, const Tensor* dk,
              const Tensor* dv) {
  cudaStream_t s = stream(q.device());
  with_half_type(q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    with_head_dim(g.D, [&](auto d) {
      constexpr int D = decltype(d)::value;
      using Tile = Tiles<D>;
      const auto qv = view_of<const T>(q), kv = view_of<const T>(k), vv = view_of<const T>(v);
      const auto dov = view_of<const T>(dout);
      const KeyMask km = key_mask_of(mask);
      const float* row_lse = lse.data<float>();
      const float* row_delta = delta.data<float>();
      if (dq != nullptr) {
        launch(dq_kernel<T, D>, grid_of(g.Lq, g.Hq, g.B), Tile::dq_bytes(sizeof(T)), s, "flash attention dq", qv, kv,
               vv, km, g, row_lse, row_delta, dov, view_of<T>(*dq));
      }
      const View<T> none{nullptr, 0, 0, 0};
      const View<T> dkv = dk != nullptr ? view_of<T>(*dk) : none, dvv = dv != nullptr ? view_of<T>(*dv) : none;
      const dim3 grid = grid_of(g.Lk, g.Hkv, g.B);
      const size_t bytes = Tile::dkv_bytes(sizeof(T));
      const auto dk_only = dkv_kernel<T, D, true, false>, dv_only = dkv_kernel<T, D, false, true>;
      if constexpr (!Tile::kSplitKV) {
        if (dk != nullptr && dv != nullptr) {
          launch(dkv_kernel<T, D, true, true>, grid, bytes, s, "flash attention dk and dv", qv, kv, vv, km, g,
                 row_lse, row_delta, dov, dkv, dvv);
          return;
        }
      }
      if (dk != nullptr) {
        launch(dk_only, grid, bytes, s, "flash attention dk", qv, kv, vv, km, g, row_lse, row_delta, dov, dkv, dvv);
      }
      if (dv != nullptr) {
        launch(dv_only, grid, bytes, s, "flash attention dv", qv, kv, vv, km, g, row_lse, row_delta, dov, dkv, dvv);
      }
    });
  });
}

}  // namespace vg::cuda::flash
