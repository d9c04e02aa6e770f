// Uniform random numbers on the GPU from the same Philox counters as the CPU's rand(), so a
// dropout mask is the same on either device for a seed.
#include "backend/cuda/common.cuh"
#include "backend/cuda/kernels.h"
#include "core/philox_block.h"

namespace vg::cuda {
namespace {

// out: [n] contiguous; one thread per group of four values (two Philox blocks).
template <class T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t first) {
  VG_GRID_STRIDE_LOOP(g, (n + 3) / 4) {
    double values[4];
    uniform_group(seed, first, static_cast<uint64_t>(g), values);
    for (int lane = 0; lane < 4 && g * 4 + lane < n; ++lane) store(out + g * 4 + lane, values[lane]);
  }
}

// v as a tensor of T holds it (p and 1 / (1 - p) of dropout), through core's conversions.
template <class T>
float rounded_to(double v) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return bf16_to_f32(f32_to_bf16(static_cast<float>(v)));
  } else if constexpr (std::is_same_v<T, __half>) {
    return f16_to_f32(f32_to_f16(static_cast<float>(v)));
  } else {
    return static_cast<float>(v);
  }
}

// dropout (backend/cpu/dropout.h): the uniform_kernel's values rounded to T decide each mask.
template <class T>
__global__ void dropout_kernel(const T* x, T* out, int64_t n, float threshold, float factor, uint64_t seed,
                               uint64_t first) {
  VG_GRID_STRIDE_LOOP(g, (n + 3) / 4) {
    double u[4];
    uniform_group(seed, first, static_cast<uint64_t>(g), u);
    for (int lane = 0; lane < 4 && g * 4 + lane < n; ++lane) {
      const int64_t i = g * 4 + lane;
      store(out + i, rounded<T>(static_cast<float>(u[lane])) >= threshold ? load(x + i) * factor : 0.0f);
    }
  }
}

}  // namespace

void dropout(const Tensor& x, double p, uint64_t seed, uint64_t first, const Tensor& out) {
  const int64_t n = x.numel();
  if (n == 0) return;
  set_device(x.device().index);
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T><<<grid_for((n + 3) / 4), kThreads, 0, stream(x.device())>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<T*>(out.data_ptr()), n, rounded_to<T>(p),
        rounded_to<T>(1.0 / (1.0 - p)), seed, first);
  });
  check_launch("dropout");
}

void uniform_fill(const Tensor& out, uint64_t seed, uint64_t first) {
  VG_ASSERT(out.is_contiguous());
  const int64_t n = out.numel();
  if (n == 0) return;
  set_device(out.device().index);
  dispatch_floating(out.dtype(), "rand", [&](auto tag) {
    using T = decltype(tag);
    uniform_kernel<T>
        <<<grid_for((n + 3) / 4), kThreads, 0, stream(out.device())>>>(static_cast<T*>(out.data_ptr()), n, seed, first);
  });
  check_launch("rand");
}

}  // namespace vg::cuda
