// Chains of ops that run as one kernel on CUDA when nothing records gradients. A decode step of
// Gemma 3n was about 1,700 kernels of a few microseconds each (about 500 with these), and their
// count, more than their work, bounds it. Each function below equals the composition written
// beside it. On the CPU, with grad mode on (training), in the first run of a checkpointed block,
// and for operands its kernel does not take (dtypes, non-contiguous views, sizes past its limits),
// it runs that composition, so that a training step computes the same values whichever ops need
// gradients. The CUDA kernel repeats the composition's roundings to the storage dtype: only the
// order of the f32 sums inside a dot product or a norm may differ.
#pragma once

#include <utility>
#include <vector>

#include "core/tensor.h"

namespace vg {

// Gemma 3n's AltUp coefficients, [..., D] -> [..., M]:
//   m = tanh(linear(rms_norm(x, norm_weight, eps), router) * (1 / D))   router [N, D]
//   out = linear(m, mix) + offset                                        mix [M, N]
// (predict: mix = the prediction coefficients, offset 0; correct: the correction
// coefficients, offset 1).
Tensor altup_coefficients(const Tensor& x, const Tensor& norm_weight, double eps, const Tensor& router,
                          const Tensor& mix, double offset);

// Gemma 3n's AltUp predict step and the normed active prediction (N streams, M = N * N):
//   coefs = altup_coefficients(streams[active], router_norm, eps, router, prediction_coefs, 0)
//   pred = add_mixed(streams, streams, coefs)
//   normed = rms_norm(pred[active], input_norm, eps)
std::pair<std::vector<Tensor>, Tensor> altup_predict_then_norm(const std::vector<Tensor>& streams, int64_t active,
                                                               const Tensor& router_norm, double eps,
                                                               const Tensor& router, const Tensor& prediction_coefs,
                                                               const Tensor& input_norm);

// (((addends[0] + rms_norm(x, weight, eps)) + addends[1]) + ...) * scale: a normalised branch
// joining the residual stream. Addends have x's shape; one to three of them.
Tensor rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends,
                    double scale = 1.0);

// A normalised branch joining its own residual: rms_norm_add(x, weight, eps, {residual}).
struct NormedBranch {
  Tensor x, weight, residual;
};

// The rms_norm_add above and rms_norm(its result, next_weight, eps): the residual stream and the
// next block's normed input in one pass. A branch, when given, is computed in the same pass and
// added after the addends, of which there may then be one or two (Gemma 3n's LAuReL, joining the
// attention output and the residual).
std::pair<Tensor, Tensor> rms_norm_add_then_norm(const Tensor& x, const Tensor& weight, double eps,
                                                 const std::vector<Tensor>& addends, double scale,
                                                 const Tensor& next_weight, const NormedBranch* branch = nullptr);

// Gemma 3n's AltUp correct step and the scaled active stream that gates the per-layer input:
//   innovation = activated - pred[active]
//   corrected = add_mixed(pred, {innovation}, scale)         scale [..., N]
//   scaled = mul(corrected[active], output_scale)            (output_scale [D]; undefined: no mul)
std::pair<std::vector<Tensor>, Tensor> altup_correct_streams(const std::vector<Tensor>& pred, const Tensor& activated,
                                                             const Tensor& scale, int64_t active,
                                                             const Tensor& output_scale);

// Gemma 3n's layer tail: a normalised branch joins the residual stream, and AltUp corrects its
// predictions with the result (correction_coefs [N, N]):
//   activated = rms_norm_add(x, weight, eps, {residual})
//   scale = altup_coefficients(activated, router_norm, eps, router, correction_coefs, 1)
//   return altup_correct_streams(pred, activated, scale, active, output_scale)
std::pair<std::vector<Tensor>, Tensor> rms_norm_add_then_correct(const Tensor& x, const Tensor& weight, double eps,
                                                                 const Tensor& residual,
                                                                 const std::vector<Tensor>& pred, int64_t active,
                                                                 const Tensor& router_norm, const Tensor& router,
                                                                 const Tensor& correction_coefs,
                                                                 const Tensor& output_scale);

// targets[i] + rms_norm(x, weight, eps) for every i: one normalised branch added to several
// streams (Gemma 3n's per-layer input joining AltUp's inactive streams). Targets of x's shape
// (one kernel takes up to 8).
std::vector<Tensor> rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps,
                                         const std::vector<Tensor>& targets);

// apply_rope(rms_norm(x, weight, eps), cos, sin): the q/k norms and rotation of attention.
// x [..., H, hd]; cos/sin [..., 1, hd] with x's leading dims (broadcast over the heads).
Tensor rms_norm_rope(const Tensor& x, const Tensor& weight, double eps, const Tensor& cos, const Tensor& sin);

// One tensor of rms_norm_rope_each: rms_norm_rope as above, or rms_norm(x, weight, eps) alone
// when `rotate` is false (an undefined weight scales by 1).
struct NormRope {
  Tensor x;  // [..., H, hd]
  Tensor weight;
  bool rotate = true;
};

// Attention's q and k norms and rotations and its v norm in one launch on CUDA: one to three
// parts of one head dim, rotated parts sharing the tables.
std::vector<Tensor> rms_norm_rope_each(const std::vector<NormRope>& parts, double eps, const Tensor& cos,
                                       const Tensor& sin);

// Gemma 3n's AltUp magnitudes: each y scaled to the RMS of `reference` over the last dim (ys of
// its shape; one kernel takes up to 8):
//   target = sqrt(mean(square(reference), -1, true))
//   out_i = div(mul(ys[i], target), sqrt(clamp(mean(square(ys[i]), -1, true), 1e-5, inf)))
std::vector<Tensor> match_magnitudes(const std::vector<Tensor>& ys, const Tensor& reference);

// Gemma 3n's Gaussian top-k sparsity over the last dim, shifting rather than masking:
//   relu(x - (mean(x, -1) + multiplier * stddev(x, -1, correction 0)))
Tensor gaussian_topk_shift(const Tensor& x, double multiplier);

// linear(x, weights[i]) for every i (no biases): on CUDA one launch for all when x has few rows.
std::vector<Tensor> linear_many(const Tensor& x, const std::vector<Tensor>& weights);
// linear(xs[i], weights[i]) for every i (no biases; the xs with the same leading dims): on CUDA
// one launch for all when they have few rows, so independent products ready at the same time
// cost one kernel.
std::vector<Tensor> linear_each(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights);

// gated_gelu(linear(x, gate), linear(x, up)): a gated MLP's hidden activations (no biases), on
// CUDA one launch when x has few rows.
Tensor linear_gated_gelu(const Tensor& x, const Tensor& gate, const Tensor& up);
// gated_gelu(linear(x, gate), multiplier): a gate over a tensor of the product's shape (Gemma
// 3n's per-layer inputs), likewise.
Tensor linear_gated_gelu_by(const Tensor& x, const Tensor& gate, const Tensor& multiplier);

}  // namespace vg
