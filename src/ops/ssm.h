// The Mamba op family: the selective scan and the depthwise causal conv1d, with mamba_ssm /
// causal_conv1d semantics (specs/vision-encoders.md Part C). Inputs may be any views (the
// bidirectional mixer passes flipped and transposed tensors); all tensors share one dtype.
#pragma once

#include "core/tensor.h"

namespace vg {

// u, delta, z: [B, D, L]; A: [D, N]; B and C: variable, [B, N, L] or [B, G, N, L] (same shape
// for both) with G dividing D, channel d using group d / (D/G); D_skip, delta_bias: [D].
// Optional tensors may be undefined.
//   delta' = delta + delta_bias, then softplus(delta') when delta_softplus (linear above 20)
//   h_t = exp(delta'_t * A) * h_{t-1} + delta'_t * B_t * u_t,  h_{-1} = 0
//   y_t = <C_t, h_t> + D_skip * u_t
// Returns y * silu(z) when z is given, else y: [B, D, L]. Every input gets a gradient.
Tensor selective_scan(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                      const Tensor& D_skip = Tensor(), const Tensor& z = Tensor(), const Tensor& delta_bias = Tensor(),
                      bool delta_softplus = false);

// Depthwise causal conv: x [B, D, L], weight [D, W] (W >= 1; nn.Conv1d's [D, 1, W] squeezed),
// bias [D] optional:
//   pre[b,c,t] = bias[c] + sum_w weight[c,w] * x[b,c,t-(W-1-w)]   (zero before t = 0)
// Returns silu(pre) when silu, else pre: [B, D, L]. Gradients for x, weight and bias.
Tensor causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), bool silu = false);

}  // namespace vg
