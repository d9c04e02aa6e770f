// Neural-network building blocks: softmax, normalisation, dropout, the gated GELU.
#pragma once

#include "core/random.h"
#include "core/tensor.h"

namespace vg {

Tensor softmax(const Tensor& x, int dim);
Tensor log_softmax(const Tensor& x, int dim);

// nn.LayerNorm over the last dim (biased variance); weight and bias [n] are optional.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
// RMSNorm over the last dim: x / sqrt(mean(x^2) + eps) * weight. Gemma 3n uses the weight as
// is (no 1 + w); pass an undefined weight for the scale-free variant (v_norm).
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps = 1e-6);

// gelu_tanh(gate) * up in one pass (Gemma's MLP, GeGLU): gate and up of one shape and dtype.
// Gradients for both, from one pass too.
Tensor gated_gelu(const Tensor& gate, const Tensor& up);

// Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not
// training. The mask comes from `gen`, so a seed reproduces it.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);
Tensor dropout(const Tensor& x, double p, bool training);  // default generator

}  // namespace vg
