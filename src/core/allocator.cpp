#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "core/error.h"

namespace vg {
namespace {

constexpr size_t kLargeBlock = size_t{1} << 20;  // blocks from here on are cached when freed

size_t cache_limit_bytes() {
  if (const char* env = std::getenv("VG_CPU_CACHE_MB")) {
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') return static_cast<size_t>(mb) << 20;
  }
  return size_t{1024} << 20;
}

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    const size_t rounded = round_up(bytes);
    void* ptr = rounded >= kLargeBlock ? take_cached(rounded) : nullptr;
    if (ptr == nullptr) ptr = std::aligned_alloc(kCpuAlignment, rounded);
    if (ptr == nullptr) {
      release_cached();  // memory held for reuse may be what is missing
      ptr = std::aligned_alloc(kCpuAlignment, rounded);
    }
    VG_CHECK(ptr != nullptr, "memory", "out of host memory allocating ", bytes, " bytes (", counter_.current() >> 20,
             " MiB already in use)");
    counter_.on_allocate(bytes);
    return ptr;
  }

  void deallocate(void* ptr, size_t bytes) override {
    counter_.on_free(bytes);
    const size_t rounded = round_up(bytes);
    if (rounded >= kLargeBlock) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + rounded <= limit_) {
        free_blocks_.emplace(rounded, ptr);
        cached_ += rounded;
        return;
      }
    }
    std::free(ptr);
  }

  MemoryStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return {counter_.current(), counter_.peak(), counter_.count(), static_cast<int64_t>(cached_)};
  }
  void reset_peak() override { counter_.reset_peak(); }

  void release_cached() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, ptr] : free_blocks_) std::free(ptr);
    free_blocks_.clear();
    cached_ = 0;
  }

  ~CpuAllocator() override { release_cached(); }

 private:
  // aligned_alloc needs a multiple of the alignment; large blocks round to 64 KiB so that
  // tensors of nearly the same size share cache entries.
  static size_t round_up(size_t bytes) {
    const size_t unit = bytes >= kLargeBlock ? size_t{1} << 16 : kCpuAlignment;
    const size_t rounded = (bytes + unit - 1) / unit * unit;
    return rounded == 0 ? kCpuAlignment : rounded;
  }

  // A cached block of exactly this size, or of at most 1/8 more.
  void* take_cached(size_t rounded) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_blocks_.lower_bound(rounded);
    if (it == free_blocks_.end() || it->first > rounded + rounded / 8) return nullptr;
    // The caller frees with the requested size; a larger cached block is returned to the cache
    // under the smaller size, which only under-counts cached_ slightly.
    void* ptr = it->second;
    cached_ -= it->first;
    free_blocks_.erase(it);
    return ptr;
  }

  MemoryCounter counter_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> free_blocks_;
  size_t cached_ = 0;
  const size_t limit_ = cache_limit_bytes();
};

}  // namespace

void MemoryCounter::on_allocate(size_t bytes) {
  const int64_t now = current_.fetch_add(static_cast<int64_t>(bytes)) + static_cast<int64_t>(bytes);
  int64_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  count_.fetch_add(1);
}

void MemoryCounter::on_free(size_t bytes) {
  current_.fetch_sub(static_cast<int64_t>(bytes));
  count_.fetch_sub(1);
}

Allocator& cpu_allocator() {
  static CpuAllocator allocator;
  return allocator;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  return cuda_allocator(device.index);
}

}  // namespace vg
