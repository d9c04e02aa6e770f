// The autograd methods of vg::Tensor.
#include "autograd/engine.h"
#include "autograd/node.h"
#include "core/tensor.h"

namespace vg {

bool Tensor::requires_grad() const { return defined() && impl()->requires_grad; }

Tensor& Tensor::set_requires_grad(bool value) {
  TensorImpl* t = checked();
  VG_CHECK(!t->grad_fn, "autograd", "set_requires_grad on a non-leaf tensor (", describe(),
           "); only leaves such as parameters can be made trainable");
  VG_CHECK(!value || is_floating(t->dtype), "autograd", "only floating tensors can require grad, not ", t->dtype);
  t->requires_grad = value;
  if (!value) t->grad_accumulator.reset();
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked()->grad); }

void Tensor::zero_grad() { checked()->grad.reset(); }

Tensor Tensor::detach() const {
  const TensorImpl* t = checked();
  Tensor out = from_storage(t->storage, t->shape, t->strides, t->offset, t->dtype);
  out.impl()->name = t->name;
  return out;
}

bool Tensor::is_leaf() const { return !checked()->grad_fn; }

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  autograd::backward({*this}, {grad_output}, retain_graph);
}

}  // namespace vg
