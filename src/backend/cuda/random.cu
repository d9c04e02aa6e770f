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

}  // namespace

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
