// CUDA kernels for the fused op chains of ops/fused.h, which describes what each computes and
// when it is used. Every tensor is contiguous, of one floating dtype, on one device; the
// kernels repeat the compositions' roundings to that dtype. Plain C++: included by every build,
// defined only by CUDA builds.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cuda {

// Whether altup_coefficients takes these sizes: router [N, D] with N <= 8, mix [M, N] with M <= 64.
bool altup_coefficients_apply(int64_t D, const Tensor& norm_weight, const Tensor& router, const Tensor& mix);
// out [..., M] from x [..., D].
void altup_coefficients(const Tensor& x, const Tensor& norm_weight, double eps, const Tensor& router, const Tensor& mix,
                        double offset, const Tensor& out);

// out = (((addends[0] + rms_norm(x, weight)) + addends[1]) + ...) * scale, 1 to 3 addends of x's
// shape; with next_weight, also normed = rms_norm(out, *next_weight).
void rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends, double scale,
                  const Tensor& out, const Tensor* next_weight, const Tensor* normed);

// corrected[i] = pred[i] + scale[..., i] * (activated - pred[active]) (as add_mixed computes it),
// scaled = corrected[active] * output_scale (a copy when output_scale is null). Up to 8 streams.
void altup_correct_streams(const std::vector<Tensor>& pred, const Tensor& activated, const Tensor& scale,
                           int64_t active, const Tensor* output_scale, const std::vector<Tensor>& corrected,
                           const Tensor& scaled);

// outs[i] = targets[i] + rms_norm(x, weight), 1 to 8 targets of x's shape.
void rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& targets,
                          const std::vector<Tensor>& outs);

// out = apply_rope(rms_norm(x, weight), cos, sin); x [..., H, hd], cos/sin [..., 1, hd].
void rms_norm_rope(const Tensor& x, const Tensor& weight, double eps, const Tensor& cos, const Tensor& sin,
                   const Tensor& out);

// out = relu(x - (mean + multiplier * stddev)) over the last dim (population stddev).
void gaussian_topk_shift(const Tensor& x, double multiplier, const Tensor& out);

}  // namespace vg::cuda
