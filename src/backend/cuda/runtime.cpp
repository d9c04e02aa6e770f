#include "backend/cuda/runtime.h"

#include <cublasLt.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "backend/cuda/cuda_api.h"

namespace vg::cuda {
namespace {

constexpr int kMaxDevices = 16;
constexpr size_t kBlasWorkspaceBytes = size_t{32} << 20;  // what cuBLASLt's fastest H100 kernels ask for

struct DeviceState {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  cublasLtHandle_t blaslt = nullptr;
  void* workspace = nullptr;
  Capabilities capabilities;
};

std::array<DeviceState, kMaxDevices>& states() {
  static std::array<DeviceState, kMaxDevices> all;
  return all;
}

DeviceState& state(int index) {
  VG_CHECK(index >= 0 && index < kMaxDevices, "cuda", "device index ", index, " is out of range");
  DeviceState& s = states()[static_cast<size_t>(index)];
  std::call_once(s.once, [&] {
    set_device(index);
    check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    const cublasStatus_t status = cublasLtCreate(&s.blaslt);
    VG_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuda", "cublasLtCreate failed: ", cublasLtGetStatusString(status));
    check(cudaMalloc(&s.workspace, kBlasWorkspaceBytes), "allocating the cuBLASLt workspace");
    int shared = 0;
    check(cudaDeviceGetAttribute(&s.capabilities.major, cudaDevAttrComputeCapabilityMajor, index), "device query");
    check(cudaDeviceGetAttribute(&shared, cudaDevAttrMaxSharedMemoryPerBlockOptin, index), "device query");
    s.capabilities.shared_per_block = static_cast<size_t>(shared);
    // The kernels' wait is compiled only when every architecture built is sm_90+ (cmake/Cuda.cmake).
    s.capabilities.chained_launch = VG_CUDA_CHAINED_LAUNCH && s.capabilities.major >= 9 && path_enabled("VG_CUDA_PDL");
  });
  return s;
}

}  // namespace

void check(cudaError_t status, const char* what) {
  VG_CHECK(status == cudaSuccess, "cuda", what, " failed: ", cudaGetErrorString(status));
}

void check_launch(const char* kernel) { check_launch(kernel, cudaGetLastError()); }

void check_launch(const char* kernel, cudaError_t status) {
  if (status != cudaSuccess) (void)cudaGetLastError();  // the launch's error is not sticky: clear it
  VG_CHECK(status == cudaSuccess, "cuda", "kernel ", kernel, " did not launch: ", cudaGetErrorString(status));
}

bool path_enabled(const char* name) {
  const char* flag = std::getenv(name);
  return flag == nullptr || std::strcmp(flag, "0") != 0;
}

void set_device(int index) { check(cudaSetDevice(index), "cudaSetDevice"); }

int current_device() {
  int index = 0;
  check(cudaGetDevice(&index), "cudaGetDevice");
  return index;
}

cudaStream_t stream(int device_index) { return state(device_index).stream; }

bool capturing(int device_index) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(state(device_index).stream, &status), "cudaStreamIsCapturing");
  return status != cudaStreamCaptureStatusNone;
}

void* blaslt_handle(int device_index) { return state(device_index).blaslt; }

const Capabilities& capabilities(int device_index) { return state(device_index).capabilities; }

void* blaslt_workspace(int device_index, size_t* bytes) {
  *bytes = kBlasWorkspaceBytes;
  return state(device_index).workspace;
}

std::string device_name(int index) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  return prop.name;
}

void synchronize() {
  for (int i = 0; i < kMaxDevices; ++i) {
    DeviceState& s = states()[static_cast<size_t>(i)];
    if (s.stream != nullptr) check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize");
  }
}

}  // namespace vg::cuda
