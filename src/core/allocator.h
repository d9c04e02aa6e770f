// Memory allocators. The CPU allocator is 64-byte aligned and counts bytes for peak-memory
// reports; the CUDA allocator comes from the CUDA backend (or its stub, which throws).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace vg {

struct MemoryStats {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
  int64_t allocations = 0;  // live allocations
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
};

constexpr size_t kCpuAlignment = 64;

Allocator& cpu_allocator();
Allocator& allocator_for(Device device);

// ---- hooks defined by the CUDA backend target (src/backend/cuda) or its stub ----
bool cuda_is_available();
int cuda_device_count();
Allocator& cuda_allocator(int device_index);
// Copies bytes between any two devices (host<->device, device<->device); synchronous.
void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace vg
