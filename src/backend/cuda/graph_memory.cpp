#include "backend/cuda/graph_memory.h"

#include <cuda_runtime.h>

#include "backend/cuda/runtime.h"
#include "core/error.h"

namespace vg::cuda {
namespace {

thread_local GraphMemory* t_recording_memory = nullptr;

// Blocks are rounded up so that tensors of nearby sizes share them.
constexpr size_t kGranule = 512;

}  // namespace

GraphMemory::~GraphMemory() {
  // A tensor that outlived the recording still points into its block: leaking the arena is the
  // lesser harm. Errors are ignored: a destructor must not throw, and at exit the runtime may be
  // gone.
  if (!live_.empty()) return;
  for (const Block& block : blocks_) {
    if (cudaFree(block.begin) != cudaSuccess) cudaGetLastError();
  }
}

void* GraphMemory::allocate(size_t bytes) {
  const size_t size = ((bytes == 0 ? 1 : bytes) + kGranule - 1) / kGranule * kGranule;
  // The smallest released block that fits, unless it is more than twice the size asked for.
  auto fit = free_.lower_bound(size);
  if (fit != free_.end() && fit->first <= 2 * size) {
    void* block = fit->second;
    live_.emplace(block, fit->first);
    free_.erase(fit);
    return block;
  }
  // cudaMalloc is one of the calls a capture in the thread-local mode forbids (it may wait for
  // the device); it is safe here, as it touches no captured stream, so the mode is relaxed
  // around it, as CUDA's documentation shows for exactly this call.
  set_device(device_);
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  check(cudaThreadExchangeStreamCaptureMode(&mode), "cudaThreadExchangeStreamCaptureMode");
  void* block = nullptr;
  const cudaError_t status = cudaMalloc(&block, size);
  check(cudaThreadExchangeStreamCaptureMode(&mode), "cudaThreadExchangeStreamCaptureMode");
  if (status != cudaSuccess) {
    cudaGetLastError();
    throw Error("cuda", str("out of device memory allocating ", size >> 20, " MiB for a recorded graph on cuda:",
                            device_, " (", reserved_ >> 20, " MiB held by the recording): ",
                            cudaGetErrorString(status)));
  }
  blocks_.push_back({static_cast<char*>(block), size});
  reserved_ += size;
  live_.emplace(block, size);
  return block;
}

bool GraphMemory::release(void* ptr) {
  auto it = live_.find(ptr);
  if (it == live_.end()) return false;
  free_.emplace(it->second, ptr);
  live_.erase(it);
  return true;
}

bool GraphMemory::holds(const void* p) const {
  const auto* at = static_cast<const char*>(p);
  for (const Block& block : blocks_) {
    if (at >= block.begin && at < block.begin + block.size) return true;
  }
  return false;
}

GraphMemory* recording_memory(int device) {
  GraphMemory* memory = t_recording_memory;
  return memory != nullptr && memory->device() == device ? memory : nullptr;
}

bool constant_while_recording(int device, std::span<const void* const> operands) {
  const GraphMemory* recording = recording_memory(device);
  if (recording == nullptr) return false;
  for (const void* p : operands) {
    if (p != nullptr && recording->holds(p)) return false;
  }
  return true;
}

RecordingMemoryScope::RecordingMemoryScope(GraphMemory& memory) : previous_(t_recording_memory) {
  t_recording_memory = &memory;
}

RecordingMemoryScope::~RecordingMemoryScope() { t_recording_memory = previous_; }

}  // namespace vg::cuda
