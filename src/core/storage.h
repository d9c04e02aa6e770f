// Storage: a block of bytes on one device, shared by every tensor view of it.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

namespace vg {

class Storage {
 public:
  // Fresh memory from the device's allocator (contents undefined).
  static std::shared_ptr<Storage> allocate(size_t bytes, Device device);
  // Memory owned elsewhere (an mmap'd file, a caller's buffer): `owner` keeps it alive.
  static std::shared_ptr<Storage> wrap(void* data, size_t bytes, Device device, std::shared_ptr<void> owner);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  bool owns_allocation_ = false;
  std::shared_ptr<void> owner_;
};

}  // namespace vg
