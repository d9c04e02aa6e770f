// The CUDA twins of the Mamba kernels: the selective scan (src/backend/cpu/selective_scan.h) and
// the depthwise causal conv1d (src/backend/cpu/causal_conv1d.h), with the same signatures and
// contracts, so that the ops layer reaches either through VG_CUDA_OR_CPU (ops/dispatch.h). They
// run on f32, bf16 and f16 tensors and compute in f32; gradients that sum over channels or the
// batch are reduced in a fixed order, so every result is deterministic.
// Plain C++: included by every build, defined only by CUDA builds (selective_scan.cu,
// causal_conv1d.cu).
#pragma once

#include "backend/cpu/selective_scan.h"
#include "core/tensor.h"

namespace vg::cuda {

// ---- selective scan (selective_scan.cu); N (A's second dim) at most 256, as mamba_ssm ----
void selective_scan(const cpu::ScanArgs& a, const Tensor& out);
void selective_scan_backward(const cpu::ScanArgs& a, const Tensor& g, const cpu::ScanGrads& grads);

// ---- depthwise causal conv1d (causal_conv1d.cu) ----
void causal_conv1d(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& out);
void causal_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor* bias, bool silu, const Tensor& g,
                            const Tensor* dx, const Tensor* dweight, const Tensor* dbias);

}  // namespace vg::cuda
