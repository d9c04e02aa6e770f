// The gated GELU of Gemma's MLP in one pass: out = gelu_tanh(gate) * up, and its backward
// (both input gradients from one read of gate, up and the output gradient).
#pragma once

#include "core/tensor.h"

namespace vg::cpu {

// gate, up, out: contiguous, one shape and dtype.
void gated_gelu(const Tensor& gate, const Tensor& up, const Tensor& out);
// ggate = g * up * gelu_tanh'(gate), gup = g * gelu_tanh(gate); either may be null.
void gated_gelu_backward(const Tensor& gate, const Tensor& up, const Tensor& g, const Tensor* ggate,
                         const Tensor* gup);

}  // namespace vg::cpu
