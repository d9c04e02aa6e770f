// Per-row mixtures of same-shaped tensors in one pass: Gemma 3n's AltUp predict (every stream
// plus a per-token combination of all of them) and correct (every prediction plus a per-token
// multiple of the innovation) without a multiply and an add per pair.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg {

// out_i = x_i + sum_j c[..., i * M + j] * y_j for i < N, j < M. The x_i and y_j share one shape
// [..., D]; c is [..., N * M] (the same leading dims). At most 8 terms each and 16 coefficients
// a row. Gradients for x, y and c; a tensor may appear in both x and y.
std::vector<Tensor> add_mixed(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& c);

}  // namespace vg
