// CPU elementwise kernels. Outputs are preallocated by the ops layer and may be strided views;
// inputs are broadcast to the output shape.
#pragma once

#include "backend/kinds.h"
#include "core/tensor.h"

namespace vg::cpu {

void unary(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& out);
// out = grad * d op(x)/dx; y is op(x) (some derivatives are cheaper from the output).
void unary_backward(UnaryOp op, const UnaryParams& params, const Tensor& x, const Tensor& y, const Tensor& grad,
                    const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out);  // out: bool
void where(const Tensor& condition, const Tensor& a, const Tensor& b, const Tensor& out);
void fill(const Tensor& out, double value);
// dst = src broadcast to dst's shape, converting between any two non-quantized dtypes.
void copy(const Tensor& src, const Tensor& dst);

}  // namespace vg::cpu
