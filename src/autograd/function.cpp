#include "autograd/function.h"

namespace vg::autograd {

bool needs_grad(const std::vector<Tensor>& tensors) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : tensors) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void record(std::string name, const std::vector<Tensor>& inputs, std::initializer_list<Tensor*> outputs,
            BackwardFn backward) {
  record(std::move(name), inputs, std::vector<Tensor*>(outputs), std::move(backward));
}

void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor*>& outputs,
            BackwardFn backward) {
  auto node = std::make_shared<FunctionNode>();
  node->name = std::move(name);
  node->backward = std::move(backward);
  node->sequence_nr = next_sequence_nr();
  node->next_edges.reserve(inputs.size());
  for (const Tensor& input : inputs) node->next_edges.push_back(gradient_edge(input));
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* out = outputs[i]->impl();
    VG_ASSERT(out != nullptr && !out->grad_fn);
    node->outputs.push_back({out->shape, out->dtype, out->storage->device()});
    out->requires_grad = true;
    out->grad_fn = node;
    out->output_nr = static_cast<int>(i);
  }
}

}  // namespace vg::autograd
