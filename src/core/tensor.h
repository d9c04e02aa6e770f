// Tensor: a cheap handle to shared storage plus offset, shape, strides and dtype (PyTorch
// semantics, row-major). Views share storage. Methods that need kernels (reshape, to, item,
// backward, ...) are declared here and implemented by the ops and autograd layers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace vg {

namespace autograd {
struct Node;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements (in blocks' elements for quantized dtypes)
  Shape shape;
  Strides strides;  // in elements
  DType dtype = DType::F32;
  std::string name;

  // Autograd state, owned by src/autograd/. A tensor with grad_fn was produced by a recorded
  // op; a leaf with requires_grad is a trainable parameter whose gradient accumulates in grad.
  bool requires_grad = false;
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;
  std::shared_ptr<autograd::Node> grad_accumulator;
  std::shared_ptr<TensorImpl> grad;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (core) ----
  // Uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  // Copies host values into a new contiguous tensor of the matching dtype.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  // Copies raw host bytes (shape.numel elements of dtype) into a new tensor.
  static Tensor from_bytes(const void* data, const Shape& shape, DType dtype, Device device = Device::cpu());
  // A view of `storage` without autograd (used by loaders and by the view ops).
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, const Strides& strides,
                             int64_t offset, DType dtype);

  // ---- metadata (core) ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked()->shape; }
  int rank() const { return checked()->shape.rank(); }
  int64_t size(int dim) const { return checked()->shape.dim(dim); }
  int64_t numel() const { return vg::numel(checked()->shape); }
  const Strides& strides() const { return checked()->strides; }
  int64_t stride(int dim) const { return checked()->strides.dim(dim); }
  int64_t offset() const { return checked()->offset; }
  DType dtype() const { return checked()->dtype; }
  Device device() const { return checked()->storage->device(); }
  bool is_contiguous() const;
  int64_t nbytes() const { return dtype_nbytes(dtype(), numel()); }
  const std::shared_ptr<Storage>& storage() const { return checked()->storage; }
  // Address of this view's first element; data<T>() also checks the dtype.
  void* data_ptr() const;
  template <class T>
  T* data() const;

  const std::string& name() const { return checked()->name; }
  Tensor& set_name(std::string name);

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  std::string describe() const;  // "f32[2,3] on cpu"

  // ---- views and copies (src/ops/view.cpp, src/ops/copy.cpp); recorded for autograd ----
  Tensor reshape(const Shape& shape) const;  // a view when strides allow, else a copy; one dim may be -1
  Tensor view(const Shape& shape) const;     // a view or an error
  Tensor flatten(int start_dim = 0, int end_dim = -1) const;
  Tensor transpose(int dim0, int dim1) const;
  Tensor permute(const std::vector<int>& dims) const;
  Tensor unsqueeze(int dim) const;
  Tensor squeeze(int dim) const;
  Tensor expand(const Shape& shape) const;                                    // -1 keeps a dim
  Tensor slice(int dim, int64_t start, int64_t end, int64_t step = 1) const;  // PyTorch clamping rules
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor select(int dim, int64_t index) const;  // removes dim
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- host access for tests and small values (src/ops/copy.cpp) ----
  double item() const;  // a one-element tensor as double
  template <class T>
  std::vector<T> to_vector() const;  // all elements, row-major, converted to T

  // ---- autograd (src/autograd/tensor_autograd.cpp) ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool value = true);  // only on leaves of a floating dtype
  Tensor grad() const;                           // undefined until a backward reaches this leaf
  void zero_grad();                              // drops the gradient
  Tensor detach() const;                         // same storage, no history
  bool is_leaf() const;
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;

 private:
  TensorImpl* checked() const {
    VG_CHECK(impl_ != nullptr, "tensor", "use of an undefined tensor");
    return impl_.get();
  }
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- template definitions ----

template <class T>
T* Tensor::data() const {
  VG_CHECK(dtype() == dtype_of<T>(), "tensor", "data<", dtype_name(dtype_of<T>()), ">() on a tensor of dtype ",
           dtype());
  return static_cast<T*>(data_ptr());
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  VG_CHECK(static_cast<int64_t>(values.size()) == vg::numel(shape), "tensor", "from_vector: ", values.size(),
           " values for shape ", shape);
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<uint8_t> bytes(values.begin(), values.end());
    return from_bytes(bytes.data(), shape, DType::Bool, device);
  } else {
    return from_bytes(values.data(), shape, dtype_of<T>(), device);
  }
}

}  // namespace vg
