// CUDA depthwise causal conv1d with the CPU's contract (src/backend/cpu/causal_conv1d.h,
// specs/vision-encoders.md C.6), forward and backward, f32 math. The forward and the input
// gradient are elementwise over [Bt, D, L]. The weight and bias gradients sum over the batch:
// each (b, c) row writes its own f32 partials and a second kernel adds them in batch order, so
// the result is deterministic (no atomics).
#include <algorithm>
#include <cmath>

#include "backend/cuda/common.cuh"
#include "backend/cuda/partial_sums.cuh"
#include "backend/cuda/scan_kernels.h"

namespace vg::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // parameter partials: one warp per (b, c) row

struct ConvShape {
  int64_t rows = 0, dim = 0, len = 0, width = 0;  // rows = Bt * D; weight [D, width]
};

ConvShape shape_of(const Tensor& x, const Tensor& weight) {
  VG_ASSERT(x.is_contiguous() && weight.is_contiguous());
  return {x.size(0) * x.size(1), x.size(1), x.size(2), weight.size(1)};
}

template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.data_ptr());
}

__device__ __forceinline__ float sigmoid_f32(float v) { return 1.0f / (1.0f + expf(-v)); }

// pre[t] of one row: bias + sum_k w[k] x[t - (W-1-k)]; taps before the sequence start read zeros.
template <class T>
__device__ float pre_activation(const T* x_row, const T* w, int64_t width, float bias, int64_t t) {
  float acc = bias;
  for (int64_t k = width - 1 - t > 0 ? width - 1 - t : 0; k < width; ++k) {
    acc += load(w + k) * load(x_row + t - (width - 1 - k));
  }
  return acc;
}

// x, out: [Bt, D, L]; weight: [D, W]; bias: [D] or null. One thread per output element.
template <class T>
__global__ void conv_forward_kernel(const T* x, const T* weight, const T* bias, bool silu, ConvShape s, T* out) {
  VG_GRID_STRIDE_LOOP(i, s.rows * s.len) {
    const int64_t row = i / s.len, t = i % s.len, c = row % s.dim;
    const float b = bias != nullptr ? load(bias + c) : 0.0f;
    const float pre = pre_activation(x + row * s.len, weight + c * s.width, s.width, b, t);
    store(out + i, silu ? pre * sigmoid_f32(pre) : pre);
  }
}

// ghat = dL/dpre [Bt, D, L] (f32) from g = dL/dout [Bt, D, L]: g silu'(pre), or g itself.
template <class T>
__global__ void conv_pre_grad_kernel(const T* x, const T* weight, const T* bias, bool silu, const T* g, ConvShape s,
                                     float* ghat) {
  VG_GRID_STRIDE_LOOP(i, s.rows * s.len) {
    float v = load(g + i);
    if (silu) {
      const int64_t row = i / s.len, t = i % s.len, c = row % s.dim;
      const float b = bias != nullptr ? load(bias + c) : 0.0f;
      const float pre = pre_activation(x + row * s.len, weight + c * s.width, s.width, b, t);
      const float sg = sigmoid_f32(pre);
      v *= sg * (1.0f + pre * (1.0f - sg));
    }
    ghat[i] = v;
  }
}

// dx[b,c,t] = sum_k weight[c,k] ghat[b,c,t + (W-1-k)]; positions past the end contribute nothing.
// ghat, dx: [Bt, D, L]; weight: [D, W].
template <class T>
__global__ void conv_input_grad_kernel(const float* ghat, const T* weight, ConvShape s, T* dx) {
  VG_GRID_STRIDE_LOOP(i, s.rows * s.len) {
    const int64_t row = i / s.len, t = i % s.len, c = row % s.dim;
    const float* g_row = ghat + row * s.len;
    float acc = 0.0f;
    for (int64_t k = 0; k < s.width; ++k) {
      const int64_t src = t + (s.width - 1 - k);
      if (src < s.len) acc += load(weight + c * s.width + k) * g_row[src];
    }
    store(dx + i, acc);
  }
}

// Per-(b, c) partials of the parameter gradients, f32: dw_part [Bt, D, W] with
// dw_part[b,c,k] = sum_t x[b,c,t - (W-1-k)] ghat[b,c,t], and db_part [Bt, D] = sum_t ghat. One
// warp per row: lanes stride over t, then a warp sum (a fixed order). Either output may be null.
template <class T>
__global__ void conv_param_partials_kernel(const T* x, const float* ghat, ConvShape s, float* dw_part, float* db_part) {
  const int lane = threadIdx.x % 32;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= s.rows) return;  // the whole warp leaves together
  const T* x_row = x + row * s.len;
  const float* g_row = ghat + row * s.len;
  if (db_part != nullptr) {
    float acc = 0.0f;
    for (int64_t t = lane; t < s.len; t += 32) acc += g_row[t];
    acc = warp_sum(acc);
    if (lane == 0) db_part[row] = acc;
  }
  if (dw_part == nullptr) return;
  for (int64_t k = 0; k < s.width; ++k) {
    const int64_t shift = s.width - 1 - k;  // tap k reads x[t - shift]
    float acc = 0.0f;
    for (int64_t t = shift + lane; t < s.len; t += 32) acc += load(x_row + t - shift) * g_row[t];
    acc = warp_sum(acc);
    if (lane == 0) dw_part[row * s.width + k] = acc;
  }
}

}  // namespace

void causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& out) {
  const ConvShape s = shape_of(x, weight);
  if (s.rows * s.len == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "causal_conv1d", [&](auto tag) {
    using T = decltype(tag);
    conv_forward_kernel<T><<<grid_for(s.rows * s.len), kThreads, 0, stream(x.device())>>>(
        ptr<const T>(x), ptr<const T>(weight), optional_ptr<T>(bias), silu, s, ptr<T>(out));
  });
  check_launch("causal_conv1d");
}

void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& g,
                            const Tensor* dx, const Tensor* dweight, const Tensor* dbias) {
  const ConvShape s = shape_of(x, weight);
  const int64_t batch = x.size(0), elements = s.rows * s.len;
  const Device device = x.device();
  set_device(device.index);
  cudaStream_t st = stream(device);
  const bool params = dweight != nullptr || dbias != nullptr;
  VG_CHECK((s.rows + kRowsPerBlock - 1) / kRowsPerBlock < (int64_t{1} << 31), "causal_conv1d", "too many rows (",
           s.rows, ") for one launch");
  // f32 scratch: dL/dpre and the per-row partials (one element at least, for an empty batch).
  const Tensor ghat = f32_scratch(true, elements, device);
  const Tensor dw_part = f32_scratch(true, s.rows * s.width, device);
  const Tensor db_part = f32_scratch(true, s.rows, device);
  dispatch_floating(x.dtype(), "causal_conv1d", [&](auto tag) {
    using T = decltype(tag);
    if (elements > 0) {
      conv_pre_grad_kernel<T><<<grid_for(elements), kThreads, 0, st>>>(
          ptr<const T>(x), ptr<const T>(weight), optional_ptr<T>(bias), silu, ptr<const T>(g), s, ptr<float>(ghat));
      if (dx != nullptr) {
        conv_input_grad_kernel<T>
            <<<grid_for(elements), kThreads, 0, st>>>(ptr<const float>(ghat), ptr<const T>(weight), s, ptr<T>(*dx));
      }
    }
    if (params && s.rows > 0) {
      const auto blocks = static_cast<unsigned>((s.rows + kRowsPerBlock - 1) / kRowsPerBlock);
      conv_param_partials_kernel<T><<<blocks, 32 * kRowsPerBlock, 0, st>>>(
          ptr<const T>(x), ptr<const float>(ghat), s, dweight != nullptr ? ptr<float>(dw_part) : nullptr,
          dbias != nullptr ? ptr<float>(db_part) : nullptr);
    }
    // The batch sums: [Bt, D, W] -> [D, W] and [Bt, D] -> [D].
    if (dweight != nullptr) sum_partials(ptr<const float>(dw_part), 1, batch, s.dim * s.width, ptr<T>(*dweight), st);
    if (dbias != nullptr) sum_partials(ptr<const float>(db_part), 1, batch, s.dim, ptr<T>(*dbias), st);
  });
  check_launch("causal_conv1d backward");
}

}  // namespace vg::cuda
