// Memory allocators. The CPU allocator is 64-byte aligned and counts bytes for peak-memory
// reports; the CUDA allocator comes from the CUDA backend (or its stub, which throws).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace vg {

struct MemoryStats {
  int64_t current_bytes = 0;  // in use by tensors
  int64_t peak_bytes = 0;
  int64_t allocations = 0;   // live allocations
  int64_t cached_bytes = 0;  // freed blocks kept for reuse (not counted in current_bytes)
};

// Live and peak byte counts, shared by the device allocators.
class MemoryCounter {
 public:
  void on_allocate(size_t bytes);
  void on_free(size_t bytes);
  int64_t current() const { return current_.load(); }
  int64_t peak() const { return peak_.load(); }
  int64_t count() const { return count_.load(); }
  void reset_peak() { peak_.store(current_.load()); }

 private:
  std::atomic<int64_t> current_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> count_{0};
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
  // Returns cached free blocks to the system.
  virtual void release_cached() {}
};

constexpr size_t kCpuAlignment = 64;

// The CPU allocator keeps freed blocks of 1 MiB and more for reuse, up to VG_CPU_CACHE_MB
// (default 1024) in total: without it, every large tensor of a training step would come from a
// fresh mmap and pay a page fault per 4 KiB on first touch.
Allocator& cpu_allocator();
Allocator& allocator_for(Device device);

// ---- hooks defined by the CUDA backend target (src/backend/cuda) or its stub ----
bool cuda_is_available();
int cuda_device_count();
Allocator& cuda_allocator(int device_index);
// Copies bytes between any two devices (host<->device, device<->device); synchronous.
void cuda_copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace vg
