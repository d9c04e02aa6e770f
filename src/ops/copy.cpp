// Copying methods of vg::Tensor: contiguous, clone, dtype and device conversion, host access.
#include <cstring>

#include "autograd/function.h"
#include "backend/cpu/elementwise.h"
#include "core/allocator.h"
#include "ops/checks.h"
#include "ops/dispatch.h"

namespace vg {

using autograd::Grads;

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), dtype(), device());
  if (is_quantized(dtype())) {
    VG_CHECK(is_contiguous(), "clone", "a quantized tensor must be contiguous to be copied");
    if (device().is_cpu()) {
      std::memcpy(out.data_ptr(), data_ptr(), static_cast<size_t>(nbytes()));
    } else {
      cuda_copy_bytes(out.data_ptr(), device(), data_ptr(), device(), static_cast<size_t>(nbytes()));
    }
    return out;
  }
  VG_CUDA_OR_CPU(out.device(), copy(*this, out));
  if (autograd::needs_grad(*this)) {
    autograd::record("clone", {*this}, {&out}, [](const Grads& g) { return Grads{g[0]}; });
  }
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  VG_CHECK(!is_quantized(target) && !is_quantized(dtype()), "to", "conversion between ", dtype(), " and ", target,
           " needs the quantization functions, not to()");
  Tensor out = Tensor::empty(shape(), target, device());
  VG_CUDA_OR_CPU(out.device(), copy(*this, out));
  if (autograd::needs_grad(*this) && is_floating(target)) {
    const DType source = dtype();
    autograd::record("to", {*this}, {&out}, [source](const Grads& g) { return Grads{g[0].to(source)}; });
  }
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), dtype(), target);
  cuda_copy_bytes(out.data_ptr(), target, src.data_ptr(), src.device(), static_cast<size_t>(nbytes()));
  if (autograd::needs_grad(src)) {
    const Device source = device();
    autograd::record("to_device", {src}, {&out}, [source](const Grads& g) { return Grads{g[0].to(source)}; });
  }
  return out;
}

double Tensor::item() const {
  VG_CHECK(numel() == 1, "item", "item() needs a one-element tensor, got ", describe());
  return to_vector<double>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  autograd::NoGradGuard no_grad;
  Tensor host = device().is_cpu() ? *this : to(Device::cpu());
  Tensor converted = host.to(dtype_of<T>()).contiguous();
  std::vector<T> out(static_cast<size_t>(numel()));
  if (!out.empty()) std::memcpy(out.data(), converted.data_ptr(), out.size() * sizeof(T));
  return out;
}

template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
template std::vector<int8_t> Tensor::to_vector<int8_t>() const;
template std::vector<int16_t> Tensor::to_vector<int16_t>() const;

}  // namespace vg
