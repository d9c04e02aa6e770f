// The k largest (or smallest) values along a dim, sorted, with their positions.
#pragma once

#include <utility>

#include "core/tensor.h"

namespace vg {

// Returns {values, indices (i64)}, each shaped like x with dim reduced to k, in descending order
// for largest (ascending otherwise); equal values keep their original order; NaN counts as the
// largest value, as in PyTorch. Gradient flows to x through values.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int dim = -1, bool largest = true);

}  // namespace vg
