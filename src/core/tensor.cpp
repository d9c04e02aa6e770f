#include "core/tensor.h"

#include <cstring>

#include "core/allocator.h"

namespace vg {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) VG_CHECK(d >= 0, "tensor", "negative extent in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<size_t>(dtype_nbytes(dtype, vg::numel(shape))), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::from_bytes(const void* data, const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::cpu());
  std::memcpy(t.data_ptr(), data, static_cast<size_t>(t.nbytes()));
  return device.is_cpu() ? t : t.to(device);
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides,
                            int64_t offset, DType dtype) {
  VG_ASSERT(shape.rank() == strides.rank());
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

bool Tensor::is_contiguous() const {
  const TensorImpl* t = checked();
  int64_t expected = 1;
  for (int i = t->shape.rank() - 1; i >= 0; --i) {
    if (t->shape[i] == 1) continue;  // the stride of a size-1 dim never matters
    if (t->strides[i] != expected) return false;
    expected *= t->shape[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  const TensorImpl* t = checked();
  auto* base = static_cast<char*>(t->storage->data());
  return base + dtype_nbytes(t->dtype, t->offset);
}

Tensor& Tensor::set_name(std::string name) {
  checked()->name = std::move(name);
  return *this;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return str(dtype(), shape(), " on ", device());
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.describe(); }

}  // namespace vg
