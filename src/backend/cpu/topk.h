// Row-wise top-k selection: the k largest (or smallest) values of each row of a contiguous
// [rows, n] tensor, sorted, with their positions. The order is strict: NaN before every number
// (PyTorch counts NaN as the largest), then by value, and equal values by position.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace vg::cpu {

// values [rows, k] (x's dtype), indices [rows, k] (i64), both contiguous.
void topk_rows(const Tensor& x, int64_t k, bool largest, const Tensor& values, const Tensor& indices);

}  // namespace vg::cpu
