// Chained launches (programmatic dependent launch, sm_90+): a kernel launched by launch_chained
// may be scheduled while the kernel before it on the stream is still running, so that its launch
// overlaps the previous kernel's tail instead of following it.
//
// The contract: a chained kernel calls begin_chained() first, before any return and before it
// touches memory that a kernel before it may write (constant operands, as a recorded decode
// step's weights, may be loaded earlier: gemv.cu, fused.cu). That waits until the kernel before it has
// finished and its writes are visible (which, by induction, covers every kernel before that), and
// then lets the next chained kernel be scheduled. Kernels launched the plain way are unaffected:
// the wait is a no-op for them, and a plain launch after a chained kernel waits for it to finish
// as usual. Builds with any architecture below sm_90 compile no wait and launch nothing chained
// (cmake/Cuda.cmake). In a recorded graph, a chained launch overlaps the one before only when no
// memory node lies between them (graph_memory.h).
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "backend/cuda/runtime.h"
#include "core/device.h"

namespace vg::cuda {

__device__ __forceinline__ void begin_chained() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  cudaGridDependencySynchronize();
  cudaTriggerProgrammaticLaunchCompletion();
#endif
}

// kernel<<<grid, block, shared_bytes, stream(device)>>>(args...), chained where the GPU supports
// it; `name` names the kernel in a launch error.
template <class... Params, class... Args>
void launch_chained(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                    Device device, Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream(device);
  cudaLaunchAttribute chained{};
  chained.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  chained.val.programmaticStreamSerializationAllowed = 1;
  if (capabilities(device.index).chained_launch) {
    config.attrs = &chained;
    config.numAttrs = 1;
  }
  check_launch(name, cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

}  // namespace vg::cuda
