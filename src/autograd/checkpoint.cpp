#include "autograd/checkpoint.h"

#include "autograd/engine.h"
#include "autograd/function.h"
#include "core/random.h"

namespace vg::autograd {
namespace {

// Recomputes the block with grad on, back-propagates the output gradients through it, and
// returns the gradients of the block inputs.
struct CheckpointNode final : Node {
  std::vector<Tensor> apply(std::vector<Tensor>& grad_outputs) override {
    VG_CHECK(block != nullptr, "autograd", "backward through a checkpointed block a second time");
    Generator& gen = Generator::default_generator();
    Generator::State resume = gen.state();
    gen.set_state(rng_state);

    std::vector<Tensor> leaves;
    for (size_t i = 0; i < saved_inputs.size(); ++i) {
      Tensor leaf = saved_inputs[i].detach();
      if (input_needs_grad[i]) leaf.set_requires_grad(true);
      leaves.push_back(leaf);
    }
    std::vector<Tensor> outputs;
    {
      EnableGradGuard grad_on;
      outputs = block(leaves);
    }
    gen.set_state(resume);
    VG_CHECK(outputs.size() == grad_outputs.size(), "autograd", "checkpointed block returned ", outputs.size(),
             " outputs on recomputation, ", grad_outputs.size(), " the first time");

    std::vector<Tensor> roots, grads;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].requires_grad()) {
        roots.push_back(outputs[i]);
        grads.push_back(grad_outputs[i]);
      }
    }
    if (!roots.empty()) backward(roots, grads, false);

    std::vector<Tensor> input_grads;
    for (const Tensor& leaf : leaves) input_grads.push_back(leaf.requires_grad() ? leaf.grad() : Tensor());
    return input_grads;
  }

  void release() override {
    block = nullptr;
    saved_inputs.clear();
  }

  BlockFn block;
  std::vector<Tensor> saved_inputs;
  std::vector<bool> input_needs_grad;
  Generator::State rng_state{};
};

}  // namespace

std::vector<Tensor> checkpoint(const BlockFn& block, const std::vector<Tensor>& inputs) {
  if (!GradMode::enabled()) return block(inputs);

  auto node = std::make_shared<CheckpointNode>();
  node->rng_state = Generator::default_generator().state();
  std::vector<Tensor> outputs;
  {
    NoGradGuard no_grad;
    RecomputedGuard recomputed;  // the backward runs the block again, recording
    outputs = block(inputs);
  }
  node->name = "checkpoint";
  node->block = block;
  node->sequence_nr = next_sequence_nr();
  for (const Tensor& input : inputs) {
    node->saved_inputs.push_back(input.detach());
    node->input_needs_grad.push_back(input.requires_grad());
    node->next_edges.push_back(gradient_edge(input));
  }
  // The block may use trainable parameters that are not inputs, so its outputs always carry
  // history. Fresh handles keep an output that is also an input from being rewired.
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor out = outputs[i].detach();
    TensorImpl* impl = out.impl();
    node->outputs.push_back({impl->shape, impl->dtype, impl->storage->device()});
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = static_cast<int>(i);
    outputs[i] = out;
  }
  return outputs;
}

}  // namespace vg::autograd
