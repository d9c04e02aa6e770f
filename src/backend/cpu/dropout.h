// Dropout in one pass: out[i] = x[i] * (u_i >= p ? 1 / (1 - p) : 0), where u_i is value i of the
// uniform draw that ops::rand makes from counter `first` under `seed` (core/philox_block.h),
// rounded to x's dtype as rand's tensor would be, and the factor rounded to x's dtype too: the
// bits of rand + ge + where + mul without their three intermediate tensors. The backward is the
// same call on the output gradient (same seed and counter, same mask).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

// x and out contiguous, one shape and dtype; 0 < p < 1.
void dropout(const Tensor& x, double p, uint64_t seed, uint64_t first, const Tensor& out);

}  // namespace vg::cpu
