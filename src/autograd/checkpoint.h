// Gradient checkpointing: run a block without saving its activations, and run it again during
// backward to get them. Trainable parameters used inside the block receive their gradients
// through that recomputation. The default random generator is replayed, so dropout inside the
// block draws the same mask both times.
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace vg::autograd {

using BlockFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

std::vector<Tensor> checkpoint(const BlockFn& block, const std::vector<Tensor>& inputs);

}  // namespace vg::autograd
