// CUDA average pooling with the CPU's separable windows (backend/cpu/pool.h). The window tables
// go to the device as one small i64 tensor. The backward gathers: each input element sums the
// windows that cover it, so there are no atomics and the result is deterministic.
#include <vector>

#include "backend/cpu/pool.h"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"

namespace vg::cuda {
namespace {

// Device pointers into the uploaded tables: start, end and count of each output row (h) and
// column (w).
struct Windows {
  const int64_t *h_start, *h_end, *h_count, *w_start, *w_end, *w_count;
  int64_t H, W, Ho, Wo;
};

// The tables of both axes as one i64 tensor on `device`: [h.start, h.end, h.count, w.start,
// w.end, w.count]. The caller keeps it alive across the launch.
Tensor upload_windows(const cpu::PoolAxis& h, const cpu::PoolAxis& w, Device device) {
  std::vector<int64_t> packed;
  for (const std::vector<int64_t>* v : {&h.start, &h.end, &h.count, &w.start, &w.end, &w.count}) {
    packed.insert(packed.end(), v->begin(), v->end());
  }
  return Tensor::from_vector(packed, {static_cast<int64_t>(packed.size())}).to(device);
}

Windows windows_of(const Tensor& tables, int64_t H, int64_t W, int64_t Ho, int64_t Wo) {
  const int64_t* p = tables.data<int64_t>();
  return {p, p + Ho, p + 2 * Ho, p + 3 * Ho, p + 3 * Ho + Wo, p + 3 * Ho + 2 * Wo, H, W, Ho, Wo};
}

// x: [planes, H, W] -> y: [planes, Ho, Wo].
template <class T>
__global__ void avg_pool_kernel(const T* x, T* y, int64_t planes, Windows g) {
  VG_GRID_STRIDE_LOOP(t, planes * g.Ho * g.Wo) {
    const int64_t ow = t % g.Wo, oh = (t / g.Wo) % g.Ho, p = t / (g.Wo * g.Ho);
    const T* plane = x + p * g.H * g.W;
    float acc = 0.0f;
    for (int64_t ih = g.h_start[oh]; ih < g.h_end[oh]; ++ih) {
      for (int64_t iw = g.w_start[ow]; iw < g.w_end[ow]; ++iw) acc += load(plane + ih * g.W + iw);
    }
    store(y + t, acc / static_cast<float>(g.h_count[oh] * g.w_count[ow]));
  }
}

// gy: [planes, Ho, Wo] -> gx: [planes, H, W], each element summing gy / count over the windows
// that contain it.
template <class T>
__global__ void avg_pool_backward_kernel(const T* gy, T* gx, int64_t planes, Windows g) {
  VG_GRID_STRIDE_LOOP(t, planes * g.H * g.W) {
    const int64_t iw = t % g.W, ih = (t / g.W) % g.H, p = t / (g.W * g.H);
    const T* grads = gy + p * g.Ho * g.Wo;
    float acc = 0.0f;
    for (int64_t oh = 0; oh < g.Ho; ++oh) {
      if (ih < g.h_start[oh] || ih >= g.h_end[oh]) continue;
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        if (iw < g.w_start[ow] || iw >= g.w_end[ow]) continue;
        acc += load(grads + oh * g.Wo + ow) / static_cast<float>(g.h_count[oh] * g.w_count[ow]);
      }
    }
    store(gx + t, acc);
  }
}

}  // namespace

void avg_pool2d(const Tensor& x, const cpu::PoolAxis& h, const cpu::PoolAxis& w, const Tensor& y) {
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  if (y.numel() == 0) return;
  set_device(x.device().index);
  const Tensor tables = upload_windows(h, w, x.device());
  const Windows g = windows_of(tables, H, W, h.size(), w.size());
  dispatch_floating(x.dtype(), "avg_pool2d", [&](auto tag) {
    using T = decltype(tag);
    avg_pool_kernel<T><<<grid_for(y.numel()), kThreads, 0, stream(x.device())>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(y.data_ptr()), planes, g);
  });
  check_launch("avg_pool2d");
}

void avg_pool2d_backward(const Tensor& gy, const cpu::PoolAxis& h, const cpu::PoolAxis& w, const Tensor& gx) {
  const int64_t H = gx.size(-2), W = gx.size(-1), planes = gx.numel() / (H * W);
  if (gx.numel() == 0) return;
  set_device(gx.device().index);
  const Tensor tables = upload_windows(h, w, gx.device());
  const Windows g = windows_of(tables, H, W, h.size(), w.size());
  dispatch_floating(gy.dtype(), "avg_pool2d_backward", [&](auto tag) {
    using T = decltype(tag);
    avg_pool_backward_kernel<T><<<grid_for(gx.numel()), kThreads, 0, stream(gx.device())>>>(
        static_cast<const T*>(gy.data_ptr()), static_cast<T*>(gx.data_ptr()), planes, g);
  });
  check_launch("avg_pool2d_backward");
}

}  // namespace vg::cuda
