// Device discovery, allocation and copies for the CUDA backend.
#include <cuda_runtime.h>

#include <atomic>

#include "backend/cuda/cuda_api.h"
#include "core/allocator.h"
#include "core/error.h"

namespace vg {
namespace {

void check(cudaError_t status, const char* what) {
  VG_CHECK(status == cudaSuccess, "cuda", what, " failed: ", cudaGetErrorString(status));
}

// Plain cudaMalloc with byte accounting; the caching allocator replaces it with the CUDA backend.
class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    check(cudaSetDevice(device_), "cudaSetDevice");
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, bytes == 0 ? 1 : bytes);
    VG_CHECK(status == cudaSuccess, "cuda", "out of device memory allocating ", bytes >> 20, " MiB on cuda:", device_,
             " (", counter_.current() >> 20, " MiB in use): ", cudaGetErrorString(status));
    counter_.on_allocate(bytes);
    return ptr;
  }

  void deallocate(void* ptr, size_t bytes) override {
    cudaFree(ptr);
    counter_.on_free(bytes);
  }

  MemoryStats stats() const override { return {counter_.current(), counter_.peak(), counter_.count(), 0}; }
  void reset_peak() override { counter_.reset_peak(); }

 private:
  int device_;
  MemoryCounter counter_;
};

}  // namespace

bool cuda_is_available() { return cuda_device_count() > 0; }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

Allocator& cuda_allocator(int device_index) {
  constexpr int kMaxDevices = 16;
  static CudaAllocator* allocators[kMaxDevices] = {};
  static std::atomic_flag lock = ATOMIC_FLAG_INIT;
  const int count = cuda_device_count();
  VG_CHECK(count > 0, "cuda", "no CUDA device is available (driver missing or no GPU)");
  VG_CHECK(device_index >= 0 && device_index < count && device_index < kMaxDevices, "cuda",
           "device cuda:", device_index, " does not exist (", count, " devices)");
  while (lock.test_and_set()) {
  }
  if (allocators[device_index] == nullptr) allocators[device_index] = new CudaAllocator(device_index);
  lock.clear();
  return *allocators[device_index];
}

void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  cudaMemcpyKind kind = dst_device.is_cpu() ? (src_device.is_cpu() ? cudaMemcpyHostToHost : cudaMemcpyDeviceToHost)
                                            : (src_device.is_cpu() ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice);
  if (!dst_device.is_cpu())
    check(cudaSetDevice(dst_device.index), "cudaSetDevice");
  else if (!src_device.is_cpu())
    check(cudaSetDevice(src_device.index), "cudaSetDevice");
  check(cudaMemcpy(dst, src, bytes, kind), "cudaMemcpy");
}

namespace cuda {

std::string device_name(int index) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  return prop.name;
}

void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

}  // namespace cuda
}  // namespace vg
