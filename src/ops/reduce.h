// Reductions over dims. A reduced dim is removed unless keepdim.
#pragma once

#include <utility>
#include <vector>

#include "core/tensor.h"

namespace vg {

Tensor sum(const Tensor& x);  // all elements -> 0-d
Tensor sum(const Tensor& x, int dim, bool keepdim = false);
Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int dim, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim = false);

// Values and (i64) positions of the first maximum / minimum along dim.
std::pair<Tensor, Tensor> max_with_indices(const Tensor& x, int dim, bool keepdim = false);
std::pair<Tensor, Tensor> min_with_indices(const Tensor& x, int dim, bool keepdim = false);
Tensor max(const Tensor& x, int dim, bool keepdim = false);
Tensor min(const Tensor& x, int dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int dim, bool keepdim = false);

// Variance and standard deviation with `correction` (1: unbiased, 0: population), as PyTorch.
Tensor var(const Tensor& x, int dim, int64_t correction = 1, bool keepdim = false);
Tensor stddev(const Tensor& x, int dim, int64_t correction = 1, bool keepdim = false);

Tensor logsumexp(const Tensor& x, int dim, bool keepdim = false);

// Sums a broadcast gradient back to `shape` (leading dims, and dims where shape has 1).
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace vg
