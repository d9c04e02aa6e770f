// Matrix-vector products for linear layers with a few input rows (a decode step's batch): the
// weights stream through once at close to the memory bandwidth, where cuBLASLt's GEMM kernels
// reach about a third of it at these shapes. gemm.cpp's linear() asks `gemv_applies` first.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cuda {

// Input rows up to which linear() takes the matrix-vector kernel. Past it the product has
// enough reuse of each weight for cuBLASLt's tensor-core kernels.
inline constexpr int64_t kGemvMaxRows = 8;

// True for x [rows <= kGemvMaxRows, in], w [features, in] and bias of one f32/bf16/f16 dtype,
// with `in` a whole number of 16-byte vectors and x, w 16-byte aligned.
bool gemv_applies(const Tensor& x, const Tensor& w, const Tensor* bias);

// out [rows, features] = x @ w^T (+ bias), accumulated in f32; x, w, out contiguous.
void gemv(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out);

// Whether linear_each takes these: 1 to 4 pairs of x [rows, in_i] (the same rows, dtype and
// device for all) and weight [features_i, in_i], each as gemv_applies and contiguous.
bool linear_each_applies(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights);
// outs[i] [rows, features_i] = xs[i] @ weights[i]^T for every i, in one launch: the projections
// that read one activation (q, k, v; gate, up), or independent ones ready at the same time
// (attention's output and LAuReL's second), cost one kernel instead of several.
void linear_each(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights, const std::vector<Tensor>& outs);

// Whether linear_gated_gelu takes these: gate (and up) as linear_each takes them with x, or a
// multiplier [rows, features] of x's dtype.
bool linear_gated_gelu_applies(const Tensor& x, const Tensor& gate, const Tensor* up, const Tensor* multiplier);
// out [rows, features] = gated_gelu(x @ gate^T, x @ up^T) when up is given, else
// gated_gelu(x @ gate^T, multiplier): the products rounded to the dtype as stored tensors would
// be, the GELU in the same launch.
void linear_gated_gelu(const Tensor& x, const Tensor& gate, const Tensor* up, const Tensor* multiplier,
                       const Tensor& out);

}  // namespace vg::cuda
