// CUDA kernels for the fused op chains of ops/fused.h, which describes what each computes and
// when it is used. Every tensor is contiguous, of one floating dtype, on one device; the
// kernels repeat the compositions' roundings to that dtype. Plain C++: included by every build,
// defined only by CUDA builds.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace vg::cuda {

// Streams (AltUp's) or targets one kernel takes at most.
inline constexpr int kMaxStreams = 8;
// The longest row (last dim) the one-block-per-row kernels take: a block holds its row in
// registers. Longer rows take the composition. The Gaussian top-k shift, which runs over an
// MLP's width, takes rows up to kMaxTopkRow (Gemma 3n E4B's 16,384).
inline constexpr int64_t kMaxFusedRow = 8192;
inline constexpr int64_t kMaxTopkRow = 16384;

// AltUp's router with one of its coefficient mixes: m = tanh(rms_norm(x, norm_weight, eps) .
// router_j / D), coefficients = mix . m + offset.
struct AltUpRouting {
  const Tensor& norm_weight;  // [D]
  const Tensor& router;       // [N, D]
  const Tensor& mix;          // [M, N]
  double eps;
  double offset;
};

// Whether the kernels take these sizes: N <= 8 router outputs, M <= 64 coefficients,
// D <= kMaxFusedRow.
bool altup_coefficients_apply(int64_t D, const AltUpRouting& r);
// out [..., M] from x [..., D].
void altup_coefficients(const Tensor& x, const AltUpRouting& r, const Tensor& out);

// pred[i] = streams[i] + sum_j c[i * N + j] streams[j] with c the coefficients of
// streams[active] (M = N * N), and normed = rms_norm(pred[active], input_norm).
void altup_predict_then_norm(const std::vector<Tensor>& streams, int64_t active, const AltUpRouting& r,
                             const Tensor& input_norm, const std::vector<Tensor>& pred, const Tensor& normed);

// activated = residual + rms_norm(x, weight), then altup_correct_streams with the coefficients of
// activated (M = the number of streams).
void rms_norm_add_then_correct(const Tensor& x, const Tensor& weight, const Tensor& residual,
                               const std::vector<Tensor>& pred, int64_t active, const AltUpRouting& r,
                               const Tensor* output_scale, const Tensor& activated,
                               const std::vector<Tensor>& corrected, const Tensor& scaled);

// A normalised branch joining its residual, residual + rms_norm(x, weight): an addend computed
// in the same pass.
struct NormedAddend {
  const Tensor& x;
  const Tensor& weight;
  const Tensor& residual;
};

// out = (((addends[0] + rms_norm(x, weight)) + addends[1]) + ...) * scale, 1 to 3 addends of x's
// shape, then the branch (if given) as the last addend; with next_weight, also normed =
// rms_norm(out, *next_weight).
void rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends, double scale,
                  const Tensor& out, const Tensor* next_weight, const Tensor* normed,
                  const NormedAddend* branch = nullptr);

// corrected[i] = pred[i] + scale[..., i] * (activated - pred[active]) (as add_mixed computes it),
// scaled = corrected[active] * output_scale (a copy when output_scale is null). Up to 8 streams.
void altup_correct_streams(const std::vector<Tensor>& pred, const Tensor& activated, const Tensor& scale,
                           int64_t active, const Tensor* output_scale, const std::vector<Tensor>& corrected,
                           const Tensor& scaled);

// outs[i] = targets[i] + rms_norm(x, weight), 1 to 8 targets of x's shape.
void rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& targets,
                          const std::vector<Tensor>& outs);

// One tensor of rms_norm_rope: out = apply_rope(rms_norm(x, weight), cos, sin), or
// rms_norm(x, weight) when not rotated; an undefined weight scales by 1.
struct NormRopePart {
  const Tensor& x;  // [..., H, hd]
  const Tensor& weight;
  const Tensor& out;
  bool rotate;
};

// One to three parts of one head dim in one launch; cos/sin [..., 1, hd] with every rotated
// part's leading dims.
void rms_norm_rope(const std::vector<NormRopePart>& parts, double eps, const Tensor& cos, const Tensor& sin);

// outs[i] = ys[i] * sqrt(mean(reference^2)) / sqrt(max(mean(ys[i]^2), 1e-5)) over the last dim, 1
// to 8 ys of reference's shape.
void match_magnitudes(const std::vector<Tensor>& ys, const Tensor& reference, const std::vector<Tensor>& outs);

// out = relu(x - (mean + multiplier * stddev)) over the last dim (population stddev), rows of
// up to kMaxTopkRow.
void gaussian_topk_shift(const Tensor& x, double multiplier, const Tensor& out);

}  // namespace vg::cuda
