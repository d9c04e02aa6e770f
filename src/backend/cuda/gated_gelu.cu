// The gated GELU (backend/cpu/gated_gelu.h) on the GPU: one pass forward, one backward, in f32.
#include "backend/cuda/chained_launch.cuh"
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"
#include "backend/gelu_tanh_math.h"

namespace vg::cuda {
namespace {

template <class T>
__global__ void gated_gelu_kernel(const T* gate, const T* up, T* out, int64_t n) {
  begin_chained();
  VG_GRID_STRIDE_LOOP(i, n) { store(out + i, gelu_tanh_value(load(gate + i)) * load(up + i)); }
}

template <class T>
__global__ void gated_gelu_backward_kernel(const T* gate, const T* up, const T* g, T* ggate, T* gup, int64_t n) {
  VG_GRID_STRIDE_LOOP(i, n) {
    const GeluTanhAt<float> at = gelu_tanh_at(load(gate + i));
    const float d = load(g + i);
    if (ggate != nullptr) store(ggate + i, d * load(up + i) * at.derivative);
    if (gup != nullptr) store(gup + i, d * at.value);
  }
}

}  // namespace

void gated_gelu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  const int64_t n = gate.numel();
  if (n == 0) return;
  set_device(gate.device().index);
  dispatch_floating(gate.dtype(), "gated_gelu", [&](auto tag) {
    using T = decltype(tag);
    launch_chained("gated_gelu", gated_gelu_kernel<T>, grid_for(n), kThreads, 0, gate.device(), optional_ptr<T>(&gate),
                   optional_ptr<T>(&up), optional_ptr<T>(&out), n);
  });
}

void gated_gelu_backward(const Tensor& gate, const Tensor& up, const Tensor& g, const Tensor* ggate,
                         const Tensor* gup) {
  const int64_t n = gate.numel();
  if (n == 0) return;
  set_device(gate.device().index);
  dispatch_floating(gate.dtype(), "gated_gelu", [&](auto tag) {
    using T = decltype(tag);
    gated_gelu_backward_kernel<T><<<grid_for(n), kThreads, 0, stream(gate.device())>>>(
        optional_ptr<T>(&gate), optional_ptr<T>(&up), optional_ptr<T>(&g), optional_ptr<T>(ggate), optional_ptr<T>(gup),
        n);
  });
  check_launch("gated_gelu backward");
}

}  // namespace vg::cuda
