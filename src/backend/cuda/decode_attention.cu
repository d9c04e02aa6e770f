#include "backend/cuda/decode_attention.h"

#include "backend/cuda/chained_launch.cuh"

namespace vg::cuda::decode {
namespace {

constexpr int kKeysPerSlice = 16;
constexpr int kMaxMergedSlices = 4096;  // 65,536 keys
constexpr int kMaxGroup = 8;            // query heads per kv head
constexpr int kMaxPerLane = 256 / 32;   // head-dim elements a lane holds
constexpr int kWarps = 8;
constexpr int kThreadsPerBlock = 32 * kWarps;
constexpr int kMergeThreads = 256;  // 4 to 32 groups of Dv / 4 columns
constexpr int kFewSlices = 32;      // merge_few_kernel: a slice per lane of one warp
constexpr int kHeldSlices = 8;      // and at most this many outputs a thread

// Block (slice, kv head, batch) for the group's G query heads over the slice's keys, in three
// phases whose loads are independent of each other (a decode step is latency-bound):
//   1. scores: warps take keys round-robin; lane l holds elements l*E .. l*E+E-1 of the key and
//      of every query (E = D / 32), a warp sum gives the G scores of a key;
//   2. per query head, the slice's max m, probabilities p = e^(s - m) and their sum l;
//   3. thread t sums p_j v_j[t] over the slice for every head.
// Writes m, l and the unnormalised output [D] (f32) per query head for the merge.
template <class T, int kPerLane>
__global__ void slice_kernel(View<const T> q, View<const T> k, View<const T> v, Mask<T> mask, Geometry g,
                             int64_t slices, float* part_m, float* part_l, float* part_o) {
  begin_chained();
  __shared__ float queries[kMaxGroup][32 * kMaxPerLane];
  __shared__ float probs[kMaxGroup][kKeysPerSlice];
  const int64_t slice = blockIdx.x, kv = blockIdx.y, b = blockIdx.z;
  const int group = static_cast<int>(g.Hq / g.Hkv);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t first = slice * kKeysPerSlice, count = smaller(g.Lk - first, kKeysPerSlice);
  // A slice nobody in the group may see (a fixed-capacity cache's unwritten slots) stops here:
  // its zero weight leaves the merge alone, and a step costs what the written keys cost.
  bool seen = false;
  if (threadIdx.x < count * group) {
    const int64_t at = first + threadIdx.x / group;
    seen = g.visible(0, at) && mask.bias(b, kv * group + threadIdx.x % group, 0, at) != -INFINITY;
  }
  if (!__syncthreads_or(seen)) {
    if (threadIdx.x < group) {
      const int64_t at = (b * g.Hq + kv * group + threadIdx.x) * slices + slice;
      part_m[at] = -INFINITY;
      part_l[at] = 0.0f;
    }
    return;
  }
  for (int e = threadIdx.x; e < group * g.D; e += blockDim.x) {
    queries[e / g.D][e % g.D] = load(q.row(b, kv * group + e / g.D, 0) + e % g.D) * g.scale;
  }
  __syncthreads();

  for (int j = warp; j < kKeysPerSlice; j += kWarps) {
    float s[kMaxGroup];
#pragma unroll
    for (int h = 0; h < kMaxGroup; ++h) s[h] = 0.0f;
    if (j < count) {
      const T* key = k.row(b, kv, first + j) + lane * kPerLane;
      float key_part[kPerLane];
#pragma unroll
      for (int i = 0; i < kPerLane; ++i) key_part[i] = load(key + i);
#pragma unroll
      for (int h = 0; h < kMaxGroup; ++h) {
        if (h < group) {
#pragma unroll
          for (int i = 0; i < kPerLane; ++i) s[h] += queries[h][lane * kPerLane + i] * key_part[i];
        }
      }
    }
#pragma unroll
    for (int h = 0; h < kMaxGroup; ++h) {
      if (h >= group) continue;
      const float dot = warp_sum(s[h]);
      if (lane == 0) {
        const int64_t at = first + j;
        const bool visible = j < count && g.visible(0, at);
        const float bias = visible ? mask.bias(b, kv * group + h, 0, at) : -INFINITY;
        probs[h][j] = bias == -INFINITY ? -INFINITY : dot + bias;
      }
    }
  }
  __syncthreads();

  // Phase 2: warp h turns head h's scores into probabilities (one key per lane).
  if (warp < group) {
    const float score = lane < kKeysPerSlice ? probs[warp][lane] : -INFINITY;
    const float m = warp_max(score);
    const float p = m == -INFINITY ? 0.0f : __expf(score - m);
    const float l = warp_sum(p);
    if (lane < kKeysPerSlice) probs[warp][lane] = p;
    if (lane == 0) {
      const int64_t at = (b * g.Hq + kv * group + warp) * slices + slice;
      part_m[at] = m;
      part_l[at] = l;
    }
  }
  __syncthreads();

  for (int d = threadIdx.x; d < g.Dv; d += blockDim.x) {
    float acc[kMaxGroup];
#pragma unroll
    for (int h = 0; h < kMaxGroup; ++h) acc[h] = 0.0f;
#pragma unroll 8
    for (int j = 0; j < count; ++j) {
      const float value = load(v.row(b, kv, first + j) + d);
#pragma unroll
      for (int h = 0; h < kMaxGroup; ++h) {
        if (h < group) acc[h] += probs[h][j] * value;
      }
    }
#pragma unroll  // acc stays in registers
    for (int h = 0; h < kMaxGroup; ++h) {
      if (h < group) part_o[((b * g.Hq + kv * group + h) * slices + slice) * g.Dv + d] = acc[h];
    }
  }
}

// The merges' last step: thread (group, column) holds its groups-th share of the 4 outputs of
// `column`; the groups meet in shared memory (`sums`, one float4 a thread) and group 0 stores.
template <class T>
__device__ __forceinline__ void store_merged(const float4& acc, float4* sums, int column, int group, int groups,
                                             T* dst) {
  const int columns = kMergeThreads / groups;
  sums[threadIdx.x] = acc;
  __syncthreads();
  if (group != 0) return;
  float4 o = sums[column];
  for (int k = 1; k < groups; ++k) {
    const float4 more = sums[k * columns + column];
    o.x += more.x;
    o.y += more.y;
    o.z += more.z;
    o.w += more.w;
  }
  dst += 4 * column;
  store(dst, o.x);
  store(dst + 1, o.y);
  store(dst + 2, o.z);
  store(dst + 3, o.w);
}

// Block (query head, batch): out = sum_s o_s e^(m_s - M) / L with M the largest slice max and
// L = sum_s l_s e^(m_s - M); lse = M + log L (-inf and a zero row when no key was visible). The
// slices' weights e^(m_s - M) / L are computed once, in shared memory, by as many threads as
// there are slices. Then thread (group, column) sums 4 outputs (one 16-byte load per slice) over
// every groups-th slice, so that the loads of all slices are in flight at once, and the groups
// meet in shared memory.
template <class T>
__global__ void merge_kernel(const float* part_m, const float* part_l, const float* part_o, int64_t slices, Geometry g,
                             View<T> out, float* lse) {
  begin_chained();
  __shared__ float scratch[32];
  __shared__ float weights[kMaxMergedSlices];
  __shared__ float4 sums[kMergeThreads];
  const int64_t h = blockIdx.x, b = blockIdx.y, row = b * g.Hq + h;
  const float* m = part_m + row * slices;
  const float* l = part_l + row * slices;
  float top = -INFINITY;
  for (int64_t s = threadIdx.x; s < slices; s += blockDim.x) top = fmaxf(top, m[s]);
  top = block_max(top, scratch);
  float total = 0.0f;
  for (int64_t s = threadIdx.x; s < slices; s += blockDim.x) {
    const float e = top == -INFINITY ? 0.0f : l[s] * __expf(m[s] - top);
    total += e;
  }
  total = block_sum(total, scratch);
  for (int64_t s = threadIdx.x; s < slices; s += blockDim.x) {
    weights[s] = total > 0.0f ? __expf(m[s] - top) / total : 0.0f;
  }
  __syncthreads();
  const int columns = static_cast<int>(g.Dv / 4), groups = kMergeThreads / columns;  // Dv in 32..256
  const int column = threadIdx.x % columns, group = threadIdx.x / columns;
  float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 8
  for (int64_t s = group; s < slices; s += groups) {
    const float w = weights[s];
    if (w == 0.0f) continue;  // never written
    const float4 o = reinterpret_cast<const float4*>(part_o + (row * slices + s) * g.Dv)[column];
    acc.x += o.x * w;
    acc.y += o.y * w;
    acc.z += o.z * w;
    acc.w += o.w * w;
  }
  store_merged(acc, sums, column, group, groups, out.row(b, h, 0));
  if (threadIdx.x == 0) lse[row] = total > 0.0f ? top + __logf(total) : -INFINITY;
}

// merge_kernel for at most kFewSlices slices (a cache of up to 512 keys, Gemma's sliding window),
// with one round trip to memory instead of three: every thread loads the outputs it will sum
// (kHeldSlices at most) before the weights are known, while the first warp loads m and l, one
// slice a lane, and turns them into the weights with warp shuffles. The sums are merge_kernel's,
// in its order, so the bits are the same.
template <class T>
__global__ void merge_few_kernel(const float* part_m, const float* part_l, const float* part_o, int64_t slices,
                                 Geometry g, View<T> out, float* lse) {
  begin_chained();
  __shared__ float weights[kFewSlices];
  __shared__ float4 sums[kMergeThreads];
  const int64_t h = blockIdx.x, b = blockIdx.y, row = b * g.Hq + h;
  const int columns = static_cast<int>(g.Dv / 4), groups = kMergeThreads / columns;
  const int column = threadIdx.x % columns, group = threadIdx.x / columns;
  float4 held[kHeldSlices];
#pragma unroll
  for (int i = 0; i < kHeldSlices; ++i) {
    const int64_t s = group + static_cast<int64_t>(i) * groups;
    if (s < slices) held[i] = reinterpret_cast<const float4*>(part_o + (row * slices + s) * g.Dv)[column];
  }
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    const float m = lane < slices ? part_m[row * slices + lane] : -INFINITY;
    const float l = lane < slices ? part_l[row * slices + lane] : 0.0f;
    const float top = warp_max(m);
    const float total = warp_sum(top == -INFINITY || lane >= slices ? 0.0f : l * __expf(m - top));
    weights[lane] = total > 0.0f && lane < slices ? __expf(m - top) / total : 0.0f;
    if (lane == 0) lse[row] = total > 0.0f ? top + __logf(total) : -INFINITY;
  }
  __syncthreads();
  float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll
  for (int i = 0; i < kHeldSlices; ++i) {
    const int64_t s = group + static_cast<int64_t>(i) * groups;
    if (s >= slices) continue;
    const float w = weights[s];
    if (w == 0.0f) continue;  // never written
    acc.x += held[i].x * w;
    acc.y += held[i].y * w;
    acc.z += held[i].z * w;
    acc.w += held[i].w * w;
  }
  store_merged(acc, sums, column, group, groups, out.row(b, h, 0));
}

}  // namespace

bool supports(const Geometry& g, DType dtype) {
  const int64_t per_lane = g.D / 32;
  const bool width = g.D % 32 == 0 && (per_lane == 1 || per_lane == 2 || per_lane == 4 || per_lane == kMaxPerLane);
  return dtype != DType::F64 && g.Lq == 1 && g.D == g.Dv && width && g.Hq % g.Hkv == 0 && g.Hq / g.Hkv <= kMaxGroup &&
         g.Lk > 0 && g.Lk <= int64_t{kMaxMergedSlices} * kKeysPerSlice;
}

void forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const Geometry& g,
             const Tensor& out, const Tensor& lse) {
  const int64_t slices = (g.Lk + kKeysPerSlice - 1) / kKeysPerSlice;
  VG_CHECK(slices <= kMaxMergedSlices, "scaled_dot_product_attention", "too many keys (", g.Lk,
           ") for one decode launch");
  // Scratch per (batch, query head, slice): running max, sum and output.
  Tensor part_m = Tensor::empty({g.B * g.Hq * slices}, DType::F32, q.device());
  Tensor part_l = Tensor::empty({g.B * g.Hq * slices}, DType::F32, q.device());
  Tensor part_o = Tensor::empty({g.B * g.Hq * slices * g.Dv}, DType::F32, q.device());
  dispatch_floating(q.dtype(), "scaled_dot_product_attention", [&](auto tag) {
    using T = decltype(tag);
    const dim3 grid(static_cast<unsigned>(slices), static_cast<unsigned>(g.Hkv), static_cast<unsigned>(g.B));
    const auto launch = [&](auto per_lane) {
      launch_chained("decode attention", slice_kernel<T, decltype(per_lane)::value>, grid, kThreadsPerBlock, 0,
                     q.device(), view_of<const T>(q), view_of<const T>(k), view_of<const T>(v), mask_of<T>(mask), g,
                     slices, part_m.data<float>(), part_l.data<float>(), part_o.data<float>());
    };
    switch (g.D / 32) {
      case 1: launch(std::integral_constant<int, 1>{}); break;
      case 2: launch(std::integral_constant<int, 2>{}); break;
      case 4: launch(std::integral_constant<int, 4>{}); break;
      default: launch(std::integral_constant<int, kMaxPerLane>{}); break;  // 8: supports() allows no other
    }
    const int64_t groups = kMergeThreads / (g.Dv / 4);
    const bool few = slices <= kFewSlices && (slices + groups - 1) / groups <= kHeldSlices;
    launch_chained("decode attention merge", few ? merge_few_kernel<T> : merge_kernel<T>,
                   dim3(static_cast<unsigned>(g.Hq), static_cast<unsigned>(g.B)), kMergeThreads, 0, q.device(),
                   part_m.data<float>(), part_l.data<float>(), part_o.data<float>(), slices, g, view_of<T>(out),
                   lse.data<float>());
  });
}

}  // namespace vg::cuda::decode
