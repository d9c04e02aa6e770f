#include "autograd/node.h"

#include <atomic>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace vg::autograd {

uint64_t next_sequence_nr() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1) + 1;
}

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>& grad_outputs) {
  VG_CHECK(backward != nullptr, "autograd", "backward through '", name,
           "' a second time: its saved tensors were freed (pass retain_graph=true to the first backward)");
  return backward(grad_outputs);
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>& grad_outputs) {
  std::shared_ptr<TensorImpl> impl = leaf.lock();
  if (!impl || !grad_outputs[0].defined()) return {};
  NoGradGuard no_grad;
  if (!impl->grad) {
    // A fresh copy: the incoming gradient may be shared with other inputs of the same op.
    impl->grad = grad_outputs[0].contiguous().clone().impl_ptr();
  } else {
    Tensor existing(impl->grad);
    add_(existing, grad_outputs[0]);
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  TensorImpl* impl = t.impl();
  if (!impl->requires_grad) return {};
  if (impl->grad_fn) return {impl->grad_fn, impl->output_nr};
  if (!impl->grad_accumulator) {
    auto acc = std::make_shared<AccumulateGrad>();
    acc->name = "accumulate_grad";
    acc->leaf = t.impl_ptr();
    acc->outputs.push_back({impl->shape, impl->dtype, impl->storage->device()});
    acc->sequence_nr = next_sequence_nr();
    impl->grad_accumulator = acc;
  }
  return {impl->grad_accumulator, 0};
}

}  // namespace vg::autograd
