// CPU depthwise causal conv1d (the causal_conv1d package's semantics, specs/vision-encoders.md
// C.6). All tensors contiguous, one dtype (f32 or f64): x, out: [Bt, D, L]; weight: [D, W];
// bias: [D] or null.
//   pre[b,c,t] = bias[c] + sum_w weight[c,w] * x[b,c,t-(W-1-w)]   (x before t=0 is zero)
//   out = silu(pre) if silu else pre
#pragma once

#include "core/tensor.h"

namespace vg::cpu {

void causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& out);

// From g = dL/dout [Bt, D, L]; the pre-activation is recomputed. dx [Bt, D, L], dweight [D, W]
// and dbias [D] may each be null to skip them.
void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& g,
                            const Tensor* dx, const Tensor* dweight, const Tensor* dbias);

}  // namespace vg::cpu
