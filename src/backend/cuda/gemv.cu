// out[r, f] = sum_k x[r, k] w[f, k] (+ bias[f]) for a few rows r: the linear layers of a decode
// step. There the weights are read once per step and nothing else is reused, so the kernel is
// bound by how fast the weights stream in; cuBLASLt's GEMM-shaped kernels reached about a third
// of the bandwidth at these shapes. Each warp computes one feature (one weight row) for every
// input row at once, reading the weight row with 16-byte loads, several in flight per lane, that
// bypass the caches the inputs sit in; the few input rows are read through L1, where every warp
// of a block finds them.
#include <vector>

#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/gemv.h"
#include "backend/cuda/graph_memory.h"
#include "backend/gelu_tanh_math.h"

namespace vg::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kVectorsInFlight = 8;  // 16-byte weight loads a lane issues before using them
constexpr int kMaxProducts = 4;      // products in one launch (linear_each)

// Up to kMaxProducts products, each of its own input with the same number of rows, launched as
// one grid: block b belongs to the product g with first_block[g] <= b < first_block[g + 1], whose
// weight rows are split over split[g] warps.
template <class T>
struct Products {
  const T* x[kMaxProducts];  // [rows, in[g]]
  int64_t in[kMaxProducts];
  int split[kMaxProducts];
  const T* w[kMaxProducts];
  const T* bias[kMaxProducts];
  T* out[kMaxProducts];
  int64_t features[kMaxProducts];
  int64_t first_block[kMaxProducts + 1];
  int count = 0;
  // Gated (one product, the gate): the up projection's weights [features, in] (Gating::ByProduct)
  // or the multiplier [rows, features] (Gating::ByTensor).
  const T* up = nullptr;
  const T* multiplier = nullptr;
};

// What the kernel stores: the products, or gated_gelu(gate, up) of a gate product and either
// a second product of the same input or a given tensor.
enum class Gating { None, ByProduct, ByTensor };

// Block: kWarpsPerBlock / S features of one product, S = its split warps per feature; warp: one
// S-th of feature f's weight row for all `rows` (<= R) input rows. The row is read in chunks of
// 32 x kVectorsInFlight 16-byte vectors, chunk c by the feature's warp c % S, lane l taking
// vectors l, l + 32, ... of it. Lanes meet in a warp reduction, the S warps of a feature in
// shared memory (in a fixed order). A long row split over two warps keeps more of the GPU busy
// when the features are few (Gemma's down projection: 2,048 rows of 8,192). Gated by a product,
// the row a warp reads is the gate's row followed by up's, with a sum for each half.
// x: [rows, in], w: [features, in], out: [rows, features], all contiguous.
// kEarlyWeights: load the first chunk of the weights before waiting for the kernel before this
// one (chained_launch.cuh), so that in a chain of launches the weights stream in while that
// kernel works; only for weights no kernel of the chain writes. (A second chunk in flight, for
// the rows a warp reads in two, measured slower: 20 against 16 us for the down projection.)
template <class T, int R, Gating kGating, bool kEarlyWeights>
__global__ void __launch_bounds__(32 * kWarpsPerBlock) gemv_kernel(Products<T> p, int rows) {
  constexpr int E = kVector<T>;
  constexpr int64_t kChunk = 32 * kVectorsInFlight;
  // Gated by a product, a warp's row is the gate's row followed by up's: two sums.
  constexpr int kHalves = kGating == Gating::ByProduct ? 2 : 1;
  if constexpr (!kEarlyWeights) begin_chained();
  __shared__ float partial[kWarpsPerBlock][kHalves][R];
  int g = 0;
  while (g + 1 < p.count && blockIdx.x >= p.first_block[g + 1]) ++g;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, split = p.split[g];
  const int64_t features = p.features[g], in = p.in[g];
  const int64_t f = (blockIdx.x - p.first_block[g]) * (kWarpsPerBlock / split) + warp / split;
  const int part = warp % split;
  const int64_t vectors = in / E;
  const int64_t row_offset = (f < features ? f : 0) * in;
  const uint4* weights = reinterpret_cast<const uint4*>(p.w[g] + row_offset);
  const uint4* up = kHalves == 2 ? reinterpret_cast<const uint4*>(p.up + row_offset) : nullptr;
  const uint4* inputs = reinterpret_cast<const uint4*>(p.x[g]);
  const int64_t end = f < features ? kHalves * vectors : 0, stride = split * kChunk;

  // The chunk of the weight row at `base`, streamed: read once, evicted first.
  uint4 wv[kVectorsInFlight];
  const auto load_chunk = [&](int64_t base) {
#pragma unroll
    for (int u = 0; u < kVectorsInFlight; ++u) {
      const int64_t v = base + 32 * u;
      if (base < end && v < end) wv[u] = __ldcs(kHalves == 2 && v >= vectors ? up + (v - vectors) : weights + v);
    }
  };
  load_chunk(part * kChunk + lane);
  if constexpr (kEarlyWeights) begin_chained();
  // The multiplier a gate by tensor stores with, loaded beside the weights rather than after the
  // sums (Gemma's per-layer input gate: a small product, where that round trip shows).
  const bool stores = lane == 0 && part == 0 && f < features;
  float multiplier[kGating == Gating::ByTensor ? R : 1];
  if constexpr (kGating == Gating::ByTensor) {
#pragma unroll
    for (int r = 0; r < R; ++r) multiplier[r] = stores && r < rows ? load(p.multiplier + r * features + f) : 0.0f;
  }

  float acc[kHalves][R];
#pragma unroll
  for (int h = 0; h < kHalves; ++h) {
#pragma unroll
    for (int r = 0; r < R; ++r) acc[h][r] = 0.0f;
  }
  for (int64_t base = part * kChunk + lane; base < end; base += stride) {
#pragma unroll
    for (int u = 0; u < kVectorsInFlight; ++u) {
      const int64_t v = base + 32 * u;
      if (v >= end) continue;
      const int half = kHalves == 2 && v >= vectors ? 1 : 0;
      const int64_t column = v - half * vectors;
      float wf[E];
      unpack<T>(wv[u], wf);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        if (r >= rows) continue;
        float xf[E];
        unpack<T>(__ldg(inputs + r * vectors + column), xf);
        float sum = acc[half][r];
#pragma unroll
        for (int e = 0; e < E; ++e) sum = fmaf(wf[e], xf[e], sum);
        acc[half][r] = sum;
      }
    }
    load_chunk(base + stride);
  }
#pragma unroll
  for (int h = 0; h < kHalves; ++h) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float sum = warp_sum(acc[h][r]);
      if (split > 1 && lane == 0) partial[warp][h][r] = sum;
      acc[h][r] = sum;
    }
  }
  if (split > 1) __syncthreads();
  if (!stores) return;
  const T* bias = p.bias[g];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    if (r >= rows) continue;
    float sums[kHalves];
#pragma unroll
    for (int h = 0; h < kHalves; ++h) {
      sums[h] = acc[h][r];
      for (int k = 1; k < split; ++k) sums[h] += partial[warp + k][h][r];
    }
    T* out = p.out[g] + r * features + f;
    if constexpr (kGating == Gating::None) {
      store(out, bias != nullptr ? sums[0] + load(bias + f) : sums[0]);
    } else {
      // As gated_gelu reads the stored products.
      float other = 0.0f;
      if constexpr (kGating == Gating::ByProduct) {
        other = rounded<T>(sums[kHalves - 1]);
      } else {
        other = multiplier[r];
      }
      store(out, gelu_tanh_value(rounded<T>(sums[0])) * other);
    }
  }
}

template <class T, int R, Gating kGating>
void launch(const Products<T>& p, int rows, Device device) {
  const auto blocks = static_cast<unsigned>(p.first_block[p.count]);
  // A recording's work leaves alone the weights made before it (core/device_graph.h), so there
  // the first chunk of every row is loaded before waiting for the kernel before. Weights the
  // recording makes itself (an adapter cast to the model's dtype) may come from that very kernel.
  const void* weights[kMaxProducts + 1] = {p.up};
  for (int g = 0; g < p.count; ++g) weights[g + 1] = p.w[g];
  if (constant_while_recording(device.index, std::span<const void* const>(weights, p.count + 1))) {
    launch_chained("gemv", gemv_kernel<T, R, kGating, true>, blocks, 32 * kWarpsPerBlock, 0, device, p, rows);
  } else {
    launch_chained("gemv", gemv_kernel<T, R, kGating, false>, blocks, 32 * kWarpsPerBlock, 0, device, p, rows);
  }
}

// Warps per weight row: two for a row of two chunks or more (each warp then reads one chunk or
// several in turn), else one. Four warps, a chunk each, measured slower on the H100 for the
// down projection's rows of four chunks (18.5 against 17.2 us).
int split_for(int64_t vectors) {
  const int64_t chunks = (vectors + 32 * kVectorsInFlight - 1) / (32 * kVectorsInFlight);
  return chunks >= 2 ? 2 : 1;
}

// outs[i] = xs[i] @ weights[i]^T (+ biases[i]) for every i, in one launch; or, gated, out[0] =
// gated_gelu(x @ weights[0]^T, x @ up^T or multiplier).
template <Gating kGating = Gating::None>
void run_products(const std::vector<const Tensor*>& xs, const std::vector<const Tensor*>& weights,
                  const std::vector<const Tensor*>& biases, const std::vector<const Tensor*>& outs,
                  const Tensor* second = nullptr) {
  const Tensor& first = *xs.front();
  set_device(first.device().index);
  dispatch_floating(first.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    Products<T> p;
    p.count = static_cast<int>(weights.size());
    p.first_block[0] = 0;
    if constexpr (kGating == Gating::ByProduct) p.up = static_cast<const T*>(second->data_ptr());
    if constexpr (kGating == Gating::ByTensor) p.multiplier = static_cast<const T*>(second->data_ptr());
    for (int g = 0; g < p.count; ++g) {
      const auto i = static_cast<size_t>(g);
      p.x[g] = static_cast<const T*>(xs[i]->data_ptr());
      p.in[g] = xs[i]->size(1);
      const int64_t row_vectors = p.in[g] / kVector<T>;
      p.split[g] = split_for(kGating == Gating::ByProduct ? 2 * row_vectors : row_vectors);
      const int64_t per_block = kWarpsPerBlock / p.split[g];
      p.w[g] = static_cast<const T*>(weights[i]->data_ptr());
      p.bias[g] = optional_ptr<const T>(biases[i]);
      p.out[g] = static_cast<T*>(outs[i]->data_ptr());
      p.features[g] = weights[i]->size(0);
      p.first_block[g + 1] = p.first_block[g] + (p.features[g] + per_block - 1) / per_block;
    }
    VG_CHECK(p.first_block[p.count] < (int64_t{1} << 31), "linear", "too many features for one launch");
    const int64_t rows = first.size(0);
    const auto rows_i = static_cast<int>(rows);
    if (rows == 1) {
      launch<T, 1, kGating>(p, rows_i, first.device());
    } else if (rows == 2) {
      launch<T, 2, kGating>(p, rows_i, first.device());
    } else if (rows <= 4) {
      launch<T, 4, kGating>(p, rows_i, first.device());
    } else {
      launch<T, kGemvMaxRows, kGating>(p, rows_i, first.device());
    }
  });
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

bool gemv_applies(const Tensor& x, const Tensor& w, const Tensor* bias) {
  // VG_CUDA_GEMV=0 leaves every product to cuBLASLt, to measure one against the other.
  static const bool enabled = path_enabled("VG_CUDA_GEMV");
  if (!enabled) return false;
  const DType t = x.dtype();
  if (t != DType::F32 && t != DType::BF16 && t != DType::F16) return false;
  if (w.dtype() != t || (bias != nullptr && bias->dtype() != t)) return false;
  const int64_t rows = x.size(0), in = x.size(1);
  const int64_t per_vector = 16 / static_cast<int64_t>(dtype_size(t));
  // Grid limit: 2^31 - 1 blocks of kWarpsPerBlock features.
  return rows >= 1 && rows <= kGemvMaxRows && in % per_vector == 0 && aligned16(x.data_ptr()) &&
         aligned16(w.data_ptr()) && w.size(0) < (int64_t{1} << 31);
}

void gemv(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  VG_ASSERT(gemv_applies(x, w, bias) && out.is_contiguous());
  run_products({&x}, {&w}, {bias}, {&out});
}

bool linear_each_applies(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights) {
  if (weights.empty() || weights.size() > static_cast<size_t>(kMaxProducts) || xs.size() != weights.size())
    return false;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    const Tensor& w = weights[i];
    if (x.rank() != 2 || !x.is_contiguous() || x.size(0) != xs[0].size(0) || x.dtype() != xs[0].dtype() ||
        x.device() != xs[0].device()) {
      return false;
    }
    if (w.rank() != 2 || w.size(1) != x.size(1) || !w.is_contiguous() || !gemv_applies(x, w, nullptr)) return false;
  }
  return true;
}

void linear_each(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights, const std::vector<Tensor>& outs) {
  VG_ASSERT(linear_each_applies(xs, weights) && outs.size() == weights.size());
  std::vector<const Tensor*> x, w, b(weights.size(), nullptr), o;
  for (size_t i = 0; i < weights.size(); ++i) {
    x.push_back(&xs[i]);
    w.push_back(&weights[i]);
    o.push_back(&outs[i]);
  }
  run_products(x, w, b, o);
}

bool linear_gated_gelu_applies(const Tensor& x, const Tensor& gate, const Tensor* up, const Tensor* multiplier) {
  if (up != nullptr) return linear_each_applies({x, x}, {gate, *up}) && up->size(0) == gate.size(0);
  return linear_each_applies({x}, {gate}) && multiplier != nullptr && multiplier->dtype() == x.dtype() &&
         multiplier->is_contiguous() && multiplier->shape() == Shape({x.size(0), gate.size(0)});
}

void linear_gated_gelu(const Tensor& x, const Tensor& gate, const Tensor* up, const Tensor* multiplier,
                       const Tensor& out) {
  VG_ASSERT(linear_gated_gelu_applies(x, gate, up, multiplier) && out.is_contiguous());
  if (up != nullptr) {
    run_products<Gating::ByProduct>({&x}, {&gate}, {nullptr}, {&out}, up);
  } else {
    run_products<Gating::ByTensor>({&x}, {&gate}, {nullptr}, {&out}, multiplier);
  }
}

}  // namespace vg::cuda
