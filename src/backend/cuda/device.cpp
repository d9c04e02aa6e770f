// Device discovery, the caching allocator and copies for the CUDA backend.
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <mutex>

#include "backend/cuda/graph_memory.h"
#include "backend/cuda/runtime.h"
#include "core/allocator.h"

namespace vg {
namespace {

// CUDA's stream-ordered pool (cudaMallocAsync) is the cache: freed blocks stay in the pool (the
// release threshold is unlimited) and are handed to the next allocation on the same stream
// without a device-wide synchronisation. A thread recording a graph allocates from the graph's
// own arena instead (graph_memory.h).
class CudaAllocator final : public Allocator {
 public:
  explicit CudaAllocator(int device) : device_(device) {
    cuda::set_device(device);
    cuda::check(cudaDeviceGetDefaultMemPool(&pool_, device), "cudaDeviceGetDefaultMemPool");
    uint64_t keep_everything = UINT64_MAX;
    cuda::check(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep_everything),
                "cudaMemPoolSetAttribute");
  }

  void* allocate(size_t bytes) override {
    if (cuda::GraphMemory* recording = cuda::recording_memory(device_)) {
      void* block = recording->allocate(bytes);
      counter_.on_allocate(bytes);
      return block;
    }
    cuda::set_device(device_);
    void* ptr = nullptr;
    cudaError_t status = cudaMallocAsync(&ptr, bytes == 0 ? 1 : bytes, cuda::stream(device_));
    if (status == cudaErrorMemoryAllocation) {
      // Give the cached blocks back and try once more before reporting.
      cudaGetLastError();
      release_cached();
      status = cudaMallocAsync(&ptr, bytes == 0 ? 1 : bytes, cuda::stream(device_));
    }
    if (status != cudaSuccess) {
      cudaGetLastError();
      throw Error("cuda", str("out of device memory allocating ", bytes >> 20, " MiB on cuda:", device_, " (",
                              counter_.current() >> 20, " MiB in use, peak ", counter_.peak() >> 20,
                              " MiB): ", cudaGetErrorString(status)));
    }
    counter_.on_allocate(bytes);
    return ptr;
  }

  void deallocate(void* ptr, size_t bytes) override {
    counter_.on_free(bytes);
    cuda::GraphMemory* recording = cuda::recording_memory(device_);
    if (recording != nullptr && recording->release(ptr)) return;
    // Errors are ignored: at exit the runtime may already be gone, and a destructor must not throw.
    if (cudaFreeAsync(ptr, cuda::stream(device_)) != cudaSuccess) cudaGetLastError();
  }

  MemoryStats stats() const override {
    uint64_t reserved = 0;
    if (cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved) != cudaSuccess) {
      cudaGetLastError();
    }
    const int64_t cached = static_cast<int64_t>(reserved) - counter_.current();
    return {counter_.current(), counter_.peak(), counter_.count(), cached > 0 ? cached : 0};
  }
  void reset_peak() override { counter_.reset_peak(); }

  void release_cached() override {
    cuda::check(cudaStreamSynchronize(cuda::stream(device_)), "cudaStreamSynchronize");
    cuda::check(cudaMemPoolTrimTo(pool_, 0), "cudaMemPoolTrimTo");
  }

 private:
  int device_;
  cudaMemPool_t pool_ = nullptr;
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
  static std::array<CudaAllocator*, kMaxDevices> allocators{};
  static std::mutex mutex;
  const int count = cuda_device_count();
  VG_CHECK(count > 0, "cuda", "no CUDA device is available (driver missing or no GPU)");
  VG_CHECK(device_index >= 0 && device_index < count && device_index < kMaxDevices, "cuda",
           "device cuda:", device_index, " does not exist (", count, " devices)");
  std::lock_guard<std::mutex> lock(mutex);
  CudaAllocator*& a = allocators[static_cast<size_t>(device_index)];
  if (a == nullptr) a = new CudaAllocator(device_index);  // never freed: tensors may outlive main
  return *a;
}

void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  const Device on = dst_device.is_cuda() ? dst_device : src_device;
  cuda::set_device(on.index);
  VG_CHECK(!cuda::capturing(on.index), "cuda",
           "a copy between the host and the device cannot be recorded in a graph (it waits for the device)");
  cudaStream_t stream = cuda::stream(on);
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device != src_device) {
    // Work already queued on the source's stream must finish first.
    cuda::check(cudaStreamSynchronize(cuda::stream(src_device)), "cudaStreamSynchronize");
    cuda::check(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, stream), "cudaMemcpyPeer");
  } else {
    cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream), "cudaMemcpyAsync");
  }
  // Host memory may be reused as soon as this returns.
  cuda::check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

}  // namespace vg
