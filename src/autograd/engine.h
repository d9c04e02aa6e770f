// Reverse-mode execution of the recorded graph.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::autograd {

// Back-propagates grads[i] from roots[i] (a missing grad means ones for a one-element root) and
// accumulates into the .grad of every reachable leaf that requires grad. Unless retain_graph,
// the saved tensors of the traversed nodes are freed.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph = false);

}  // namespace vg::autograd
