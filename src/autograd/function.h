// Recording an op for autograd. An op computes its outputs, then, when needs_grad() says any
// input is trainable, records a backward closure over detached copies of what it must save:
//
//   Tensor y = ...forward...;
//   if (autograd::needs_grad(x)) {
//     autograd::record("exp", {x}, {&y}, [ys = y.detach()](const Grads& g) { return Grads{mul(g[0], ys)}; });
//   }
//
// Saved tensors must be detached: saving an op's own output with its history would be a cycle.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace vg::autograd {

using Grads = std::vector<Tensor>;

inline bool needs_grad(std::initializer_list<const Tensor*> tensors) {
  if (!GradMode::enabled()) return false;
  for (const Tensor* t : tensors) {
    if (t != nullptr && t->defined() && t->requires_grad()) return true;
  }
  return false;
}

template <class... Ts>
bool needs_grad(const Ts&... tensors) {
  return needs_grad({&tensors...});
}

bool needs_grad(const std::vector<Tensor>& tensors);

// Makes `outputs` results of a recorded op with the given inputs. `backward` returns one
// gradient per input, in order; an undefined tensor means "no gradient for this input".
void record(std::string name, const std::vector<Tensor>& inputs, std::initializer_list<Tensor*> outputs,
            BackwardFn backward);
void record(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor*>& outputs,
            BackwardFn backward);

}  // namespace vg::autograd
