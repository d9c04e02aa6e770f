// CPU reductions over one dim of a contiguous tensor, seen as [outer, R, inner].
#pragma once

#include "backend/kinds.h"
#include "core/tensor.h"

namespace vg::cpu {

// out: contiguous [outer, inner] (any shape with that many elements). For Max/Min, `indices`
// (i64, same size as out) receives the position of the first extreme element, or may be null.
void reduce(ReduceOp op, const Tensor& x, int dim, const Tensor& out, const Tensor* indices);

// Variance with `correction` (0: population, 1: Bessel), computed in two passes.
void variance(const Tensor& x, int dim, int64_t correction, const Tensor& out);

}  // namespace vg::cpu
