#include "core/storage.h"

#include "core/allocator.h"

namespace vg {

std::shared_ptr<Storage> Storage::allocate(size_t bytes, Device device) {
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = allocator_for(device).allocate(bytes);
  s->bytes_ = bytes;
  s->device_ = device;
  s->owns_allocation_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t bytes, Device device, std::shared_ptr<void> owner) {
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = data;
  s->bytes_ = bytes;
  s->device_ = device;
  s->owner_ = std::move(owner);
  return s;
}

Storage::~Storage() {
  if (owns_allocation_ && data_ != nullptr) allocator_for(device_).deallocate(data_, bytes_);
}

}  // namespace vg
