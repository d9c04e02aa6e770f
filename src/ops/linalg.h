// Matrix products with PyTorch semantics.
#pragma once

#include "core/tensor.h"

namespace vg {

// a[..., M, K] @ b[..., K, N] -> [..., M, N]; batch dims broadcast; 1-D operands are promoted
// (a vector on the left is a row, on the right a column) and the added dim removed again.
Tensor matmul(const Tensor& a, const Tensor& b);

// x[..., in] @ weight[out, in]^T + bias[out]: the safetensors layout of nn.Linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace vg
