// Per-device state of the CUDA backend: the stream every kernel and copy is enqueued on, the
// cuBLASLt handle and its workspace, the capabilities kernels choose their paths by, and error
// checks that name what failed.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "core/device.h"
#include "core/error.h"

namespace vg::cuda {

// Throws vg::Error("[cuda] what failed: reason").
void check(cudaError_t status, const char* what);
// Checks the last kernel launch (bad configuration, missing kernel image for this GPU).
void check_launch(const char* kernel);
// The same for a launch call's own status (cudaLaunchKernelEx).
void check_launch(const char* kernel, cudaError_t status);

// The device of the tensors at hand is made current before a launch.
void set_device(int index);
int current_device();

// The stream all work of a device goes to. One stream per device keeps every operation in
// order, so the stream-ordered allocator can hand a freed block to the next op at once.
cudaStream_t stream(int device_index);
inline cudaStream_t stream(Device device) { return stream(device.index); }

// A switch of the backend's paths read from the environment: on unless `name` is set to "0"
// (VG_CUDA_GRAPHS, VG_CUDA_GEMV, VG_CUDA_PDL: to measure a path against the one it replaces).
bool path_enabled(const char* name);

// True while the device's stream is being recorded into a graph (core/device_graph.h): host
// round trips are impossible then, and the graph's owner has validated its inputs.
bool capturing(int device_index);

// What the kernels choose their paths by, queried once per device.
struct Capabilities {
  int major = 0;                // compute capability: 8+ has bf16 tensor cores (mma.sync)
  size_t shared_per_block = 0;  // bytes of shared memory a block may opt in to
  bool chained_launch = false;  // programmatic dependent launch (sm_90+ builds and GPUs, unless VG_CUDA_PDL=0)
};
const Capabilities& capabilities(int device_index);

// cuBLASLt handle (cublasLtHandle_t, kept opaque here) and a 32 MiB workspace for the device.
void* blaslt_handle(int device_index);
void* blaslt_workspace(int device_index, size_t* bytes);

}  // namespace vg::cuda
