// CPU selective scan: Mamba's selective_scan_fn forward and backward (specs/vision-encoders.md
// C.2, C.3). All tensors are contiguous and share one dtype (f32 or f64):
//   u, delta, z, out: [Bt, D, L];  A: [D, N];  B, C: [Bt, G, N, L] (channel d uses group d / (D/G));
//   D_skip, delta_bias: [D].
// The state h is never stored between forward and backward: the backward recomputes it per
// (batch, channel, state) over the sequence.
#pragma once

#include "core/tensor.h"

namespace vg::cpu {

struct ScanArgs {
  Tensor u, delta, A, B, C;      // required
  Tensor D_skip, z, delta_bias;  // optional: undefined when absent
  bool delta_softplus = false;
};

// The extents of a scan: u [batch, dim, len], A [dim, nstate], B/C [batch, groups, nstate, len]
// with dim / groups channels per group.
struct ScanDims {
  int64_t batch = 0, dim = 0, len = 0, nstate = 0, groups = 1, per_group = 1;
};
ScanDims dims_of(const ScanArgs& a);

// out = y * silu(z) when z is given, else y.
void selective_scan(const ScanArgs& a, const Tensor& out);

// Gradients of the scan from g = dL/dout [Bt, D, L], each with its input's shape. Any of them
// may be left undefined to skip it; dD, dz and ddelta_bias must be undefined when that input is.
struct ScanGrads {
  Tensor du, ddelta, dA, dB, dC, dD, dz, ddelta_bias;
};
void selective_scan_backward(const ScanArgs& a, const Tensor& g, const ScanGrads& grads);

}  // namespace vg::cpu
