// Fill kernel: the first kernel of the CUDA backend, used to check the toolchain end to end.
#include <cuda_runtime.h>

#include "backend/cuda/cuda_api.h"
#include "core/error.h"

namespace vg::cuda {
namespace {

__global__ void fill_kernel(float* dst, int64_t n, float value) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (; i < n; i += stride) dst[i] = value;
}

}  // namespace

void fill_f32(float* dst, int64_t n, float value) {
  if (n == 0) return;
  const int threads = 256;
  const int64_t blocks = (n + threads - 1) / threads;
  fill_kernel<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), threads>>>(dst, n, value);
  cudaError_t status = cudaGetLastError();
  VG_CHECK(status == cudaSuccess, "cuda", "fill kernel launch failed: ", cudaGetErrorString(status));
}

}  // namespace vg::cuda
