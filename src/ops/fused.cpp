#include "ops/fused.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "backend/cuda/fused.h"
#include "backend/cuda/gemv.h"
#include "ops/dispatch.h"
#include "ops/ops.h"

namespace vg {
namespace {

// The fused kernel runs on CUDA tensors of one floating dtype, all contiguous, when grad mode is
// off and no recomputation of this code will record (a checkpointed block); everything else
// takes the composition.
bool fusable(const std::vector<Tensor>& tensors) {
  if constexpr (!kCudaBuild) {
    return false;
  } else {
    const Tensor& first = tensors.front();
    // Only where nothing records at all: a recording forward mixes ops that need gradients with
    // ops that do not, and a checkpointed block's recomputation must repeat its first run.
    if (!first.device().is_cuda() || autograd::GradMode::enabled() || autograd::Recomputed::pending()) return false;
    const DType t = first.dtype();
    if (t != DType::F32 && t != DType::BF16 && t != DType::F16) return false;
    for (const Tensor& x : tensors) {
      if (!x.defined() || x.dtype() != t || x.device() != first.device() || !x.is_contiguous()) return false;
    }
    return true;
  }
}

// Every one of `others` has x's shape.
bool same_shapes(const Tensor& x, const std::vector<Tensor>& others) {
  for (const Tensor& t : others) {
    if (t.shape() != x.shape()) return false;
  }
  return true;
}

// x's rows are short enough for the one-block-per-row kernels.
bool row_fits(const Tensor& x) { return x.rank() >= 1 && x.size(-1) <= cuda::kMaxFusedRow; }

// `weight` scales x's rows: [x.size(-1)].
bool row_weight(const Tensor& x, const Tensor& weight) {
  return x.rank() >= 1 && weight.rank() == 1 && weight.size(0) == x.size(-1);
}

std::vector<Tensor> joined(std::vector<Tensor> first, const std::vector<Tensor>& rest) {
  first.insert(first.end(), rest.begin(), rest.end());
  return first;
}

void check_active_stream(const char* op, const std::vector<Tensor>& streams, int64_t active) {
  VG_CHECK(active >= 0 && active < static_cast<int64_t>(streams.size()), op, "active stream ", active, " of ",
           streams.size());
}

// linear_gated_gelu with `up` or linear_gated_gelu_by with `multiplier` (the other null).
Tensor gated_product(const Tensor& x, const Tensor& gate, const Tensor* up, const Tensor* multiplier) {
  if constexpr (kCudaBuild) {
    std::vector<Tensor> operands = {x, gate, up != nullptr ? *up : *multiplier};
    if (fusable(operands) && x.rank() >= 1 && gate.rank() == 2) {
      const Tensor rows = x.reshape({-1, x.size(-1)});
      const Tensor by = multiplier != nullptr && multiplier->numel() == rows.size(0) * gate.size(0)
                            ? multiplier->reshape({rows.size(0), gate.size(0)})
                            : Tensor();
      Shape shape = x.shape();
      shape[shape.rank() - 1] = gate.size(0);
      if ((multiplier == nullptr || multiplier->shape() == shape) &&
          cuda::linear_gated_gelu_applies(rows, gate, up, by.defined() ? &by : nullptr)) {
        Tensor out = Tensor::empty(shape, x.dtype(), x.device());
        cuda::linear_gated_gelu(rows, gate, up, by.defined() ? &by : nullptr, out);
        return out;
      }
    }
  }
  return gated_gelu(linear(x, gate), up != nullptr ? linear(x, *up) : *multiplier);
}

void check_addends(const char* op, const std::vector<Tensor>& addends) {
  VG_CHECK(!addends.empty() && addends.size() <= 3, op, "takes one to three addends, got ", addends.size());
}

}  // namespace

Tensor altup_coefficients(const Tensor& x, const Tensor& norm_weight, double eps, const Tensor& router,
                          const Tensor& mix, double offset) {
  const int64_t D = x.size(-1);
  if constexpr (kCudaBuild) {
    const cuda::AltUpRouting routing{norm_weight, router, mix, eps, offset};
    if (fusable({x, norm_weight, router, mix}) && cuda::altup_coefficients_apply(D, routing)) {
      Shape shape = x.shape();
      shape[shape.rank() - 1] = mix.size(0);
      Tensor out = Tensor::empty(shape, x.dtype(), x.device());
      cuda::altup_coefficients(x, routing, out);
      return out;
    }
  }
  Tensor m = tanh(mul(linear(rms_norm(x, norm_weight, eps), router), 1.0 / static_cast<double>(D)));  // [..., N]
  Tensor out = linear(m, mix);                                                                        // [..., M]
  return offset == 0.0 ? out : add(out, offset);
}

std::pair<std::vector<Tensor>, Tensor> altup_predict_then_norm(const std::vector<Tensor>& streams, int64_t active,
                                                               const Tensor& router_norm, double eps,
                                                               const Tensor& router, const Tensor& prediction_coefs,
                                                               const Tensor& input_norm) {
  check_active_stream("altup_predict_then_norm", streams, active);
  const Tensor& x = streams[static_cast<size_t>(active)];
  if constexpr (kCudaBuild) {
    const cuda::AltUpRouting routing{router_norm, router, prediction_coefs, eps, 0.0};
    const auto n = static_cast<int64_t>(streams.size());
    if (fusable(joined(streams, {router_norm, router, prediction_coefs, input_norm})) && x.rank() >= 1 &&
        same_shapes(x, streams) && row_weight(x, input_norm) && cuda::altup_coefficients_apply(x.size(-1), routing) &&
        router.size(0) == n && prediction_coefs.size(0) == n * n) {
      std::vector<Tensor> pred = empties_like(x, streams.size());
      Tensor normed = empty_like(x);
      cuda::altup_predict_then_norm(streams, active, routing, input_norm, pred, normed);
      return {pred, normed};
    }
  }
  Tensor coefs = altup_coefficients(x, router_norm, eps, router, prediction_coefs, 0.0);  // [..., N * N]
  std::vector<Tensor> pred = add_mixed(streams, streams, coefs);                          // N x [..., D]
  Tensor normed = rms_norm(pred[static_cast<size_t>(active)], input_norm, eps);
  return {pred, normed};
}

Tensor rms_norm_add(const Tensor& x, const Tensor& weight, double eps, const std::vector<Tensor>& addends,
                    double scale) {
  check_addends("rms_norm_add", addends);
  if constexpr (kCudaBuild) {
    if (fusable(joined({x, weight}, addends)) && row_fits(x) && row_weight(x, weight) && same_shapes(x, addends)) {
      Tensor out = empty_like(x);
      cuda::rms_norm_add(x, weight, eps, addends, scale, out, nullptr, nullptr);
      return out;
    }
  }
  Tensor out = add(addends[0], rms_norm(x, weight, eps));
  for (size_t i = 1; i < addends.size(); ++i) out = add(out, addends[i]);
  return scale == 1.0 ? out : mul(out, scale);
}

std::pair<Tensor, Tensor> rms_norm_add_then_norm(const Tensor& x, const Tensor& weight, double eps,
                                                 const std::vector<Tensor>& addends, double scale,
                                                 const Tensor& next_weight, const NormedBranch* branch) {
  check_addends("rms_norm_add_then_norm", addends);
  VG_CHECK(branch == nullptr || addends.size() <= 2, "rms_norm_add_then_norm",
           "takes one or two addends besides a branch, got ", addends.size());
  if constexpr (kCudaBuild) {
    std::vector<Tensor> all = joined({x, weight, next_weight}, addends);
    if (branch != nullptr) all = joined(all, {branch->x, branch->weight, branch->residual});
    if (fusable(all) && row_fits(x) && row_weight(x, weight) && row_weight(x, next_weight) && same_shapes(x, addends) &&
        (branch == nullptr || (same_shapes(x, {branch->x, branch->residual}) && row_weight(x, branch->weight)))) {
      Tensor sum = empty_like(x);
      Tensor normed = empty_like(x);
      if (branch != nullptr) {
        const cuda::NormedAddend addend{branch->x, branch->weight, branch->residual};
        cuda::rms_norm_add(x, weight, eps, addends, scale, sum, &next_weight, &normed, &addend);
      } else {
        cuda::rms_norm_add(x, weight, eps, addends, scale, sum, &next_weight, &normed);
      }
      return {sum, normed};
    }
  }
  std::vector<Tensor> all_addends = addends;
  if (branch != nullptr) all_addends.push_back(rms_norm_add(branch->x, branch->weight, eps, {branch->residual}));
  Tensor sum = rms_norm_add(x, weight, eps, all_addends, scale);
  return {sum, rms_norm(sum, next_weight, eps)};
}

std::pair<std::vector<Tensor>, Tensor> altup_correct_streams(const std::vector<Tensor>& pred, const Tensor& activated,
                                                             const Tensor& scale, int64_t active,
                                                             const Tensor& output_scale) {
  check_active_stream("altup_correct_streams", pred, active);
  if constexpr (kCudaBuild) {
    std::vector<Tensor> all = joined(pred, {activated, scale});
    if (output_scale.defined()) all.push_back(output_scale);
    Shape scale_shape = activated.shape();
    if (activated.rank() >= 1) scale_shape[scale_shape.rank() - 1] = static_cast<int64_t>(pred.size());  // [..., N]
    if (fusable(all) && pred.size() <= static_cast<size_t>(cuda::kMaxStreams) && activated.rank() >= 1 &&
        same_shapes(activated, pred) && scale.shape() == scale_shape &&
        (!output_scale.defined() || row_weight(activated, output_scale))) {
      std::vector<Tensor> corrected = empties_like(activated, pred.size());
      Tensor scaled = empty_like(activated);
      cuda::altup_correct_streams(pred, activated, scale, active, output_scale.defined() ? &output_scale : nullptr,
                                  corrected, scaled);
      return {corrected, scaled};
    }
  }
  Tensor innovation = sub(activated, pred[static_cast<size_t>(active)]);
  std::vector<Tensor> corrected = add_mixed(pred, {innovation}, scale);
  const Tensor& a = corrected[static_cast<size_t>(active)];
  return {corrected, output_scale.defined() ? mul(a, output_scale) : a};
}

std::pair<std::vector<Tensor>, Tensor> rms_norm_add_then_correct(const Tensor& x, const Tensor& weight, double eps,
                                                                 const Tensor& residual,
                                                                 const std::vector<Tensor>& pred, int64_t active,
                                                                 const Tensor& router_norm, const Tensor& router,
                                                                 const Tensor& correction_coefs,
                                                                 const Tensor& output_scale) {
  check_active_stream("rms_norm_add_then_correct", pred, active);
  if constexpr (kCudaBuild) {
    const cuda::AltUpRouting routing{router_norm, router, correction_coefs, eps, 1.0};
    std::vector<Tensor> all = joined(pred, {x, weight, residual, router_norm, router, correction_coefs});
    if (output_scale.defined()) all.push_back(output_scale);
    const auto n = static_cast<int64_t>(pred.size());
    if (fusable(all) && x.rank() >= 1 && same_shapes(x, joined(pred, {residual})) && row_weight(x, weight) &&
        (!output_scale.defined() || row_weight(x, output_scale)) &&
        cuda::altup_coefficients_apply(x.size(-1), routing) && router.size(0) == n && correction_coefs.size(0) == n) {
      Tensor activated = empty_like(x);
      std::vector<Tensor> corrected = empties_like(x, pred.size());
      Tensor scaled = empty_like(x);
      cuda::rms_norm_add_then_correct(x, weight, residual, pred, active, routing,
                                      output_scale.defined() ? &output_scale : nullptr, activated, corrected, scaled);
      return {corrected, scaled};
    }
  }
  Tensor activated = rms_norm_add(x, weight, eps, {residual});
  Tensor scale = altup_coefficients(activated, router_norm, eps, router, correction_coefs, 1.0);  // [..., N]
  return altup_correct_streams(pred, activated, scale, active, output_scale);
}

std::vector<Tensor> rms_norm_add_to_each(const Tensor& x, const Tensor& weight, double eps,
                                         const std::vector<Tensor>& targets) {
  VG_CHECK(!targets.empty(), "rms_norm_add_to_each", "takes at least one target");
  if constexpr (kCudaBuild) {
    if (fusable(joined({x, weight}, targets)) && targets.size() <= static_cast<size_t>(cuda::kMaxStreams) &&
        row_fits(x) && row_weight(x, weight) && same_shapes(x, targets)) {
      std::vector<Tensor> outs = empties_like(x, targets.size());
      cuda::rms_norm_add_to_each(x, weight, eps, targets, outs);
      return outs;
    }
  }
  const Tensor normed = rms_norm(x, weight, eps);
  std::vector<Tensor> outs;
  for (const Tensor& t : targets) outs.push_back(add(t, normed));
  return outs;
}

Tensor rms_norm_rope(const Tensor& x, const Tensor& weight, double eps, const Tensor& cos, const Tensor& sin) {
  return rms_norm_rope_each({{x, weight, true}}, eps, cos, sin)[0];
}

std::vector<Tensor> rms_norm_rope_each(const std::vector<NormRope>& parts, double eps, const Tensor& cos,
                                       const Tensor& sin) {
  VG_CHECK(!parts.empty() && parts.size() <= 3, "rms_norm_rope_each", "takes one to three parts, got ", parts.size());
  if constexpr (kCudaBuild) {
    // Every part [..., H, hd] of one head dim, its weight [hd] (or none); a rotated part's tables
    // [..., 1, hd] with its leading dims.
    const int64_t hd = parts.front().x.rank() >= 2 ? parts.front().x.size(-1) : 0;
    const auto fits = [&](const NormRope& p) {
      if (p.x.rank() < 2 || p.x.size(-1) != hd || p.x.numel() == 0) return false;
      if (p.weight.defined() && !row_weight(p.x, p.weight)) return false;
      if (!p.rotate) return true;
      if (cos.shape() != sin.shape() || cos.rank() != p.x.rank() || cos.size(-2) != 1) return false;
      for (int d = 0; d < p.x.rank(); ++d) {
        if (d != p.x.rank() - 2 && cos.size(d) != p.x.size(d)) return false;
      }
      return true;
    };
    std::vector<Tensor> operands = {cos, sin};
    bool all_fit = hd % 2 == 0;
    for (const NormRope& p : parts) {
      all_fit = all_fit && fits(p);
      operands.push_back(p.x);
      if (p.weight.defined()) operands.push_back(p.weight);
    }
    if (all_fit && fusable(operands)) {
      std::vector<Tensor> outs;
      std::vector<cuda::NormRopePart> kernel_parts;
      for (const NormRope& p : parts) outs.push_back(empty_like(p.x));
      for (size_t i = 0; i < parts.size(); ++i) {
        kernel_parts.push_back({parts[i].x, parts[i].weight, outs[i], parts[i].rotate});
      }
      cuda::rms_norm_rope(kernel_parts, eps, cos, sin);
      return outs;
    }
  }
  std::vector<Tensor> outs;
  for (const NormRope& p : parts) {
    Tensor normed = rms_norm(p.x, p.weight, eps);
    outs.push_back(p.rotate ? apply_rope(normed, cos, sin) : normed);
  }
  return outs;
}

std::vector<Tensor> match_magnitudes(const std::vector<Tensor>& ys, const Tensor& reference) {
  VG_CHECK(!ys.empty(), "match_magnitudes", "takes at least one tensor");
  if constexpr (kCudaBuild) {
    if (fusable(joined({reference}, ys)) && ys.size() <= static_cast<size_t>(cuda::kMaxStreams) &&
        reference.rank() >= 1 && same_shapes(reference, ys)) {
      std::vector<Tensor> outs = empties_like(reference, ys.size());
      cuda::match_magnitudes(ys, reference, outs);
      return outs;
    }
  }
  const Tensor target = sqrt(mean(square(reference), -1, true));  // [..., 1]
  std::vector<Tensor> outs;
  for (const Tensor& y : ys) {
    outs.push_back(div(mul(y, target), sqrt(clamp(mean(square(y), -1, true), 1e-5, INFINITY))));
  }
  return outs;
}

Tensor gaussian_topk_shift(const Tensor& x, double multiplier) {
  if constexpr (kCudaBuild) {
    if (fusable({x}) && x.rank() >= 1 && x.size(-1) > 0 && x.size(-1) <= cuda::kMaxTopkRow) {
      Tensor out = empty_like(x);
      cuda::gaussian_topk_shift(x, multiplier, out);
      return out;
    }
  }
  Tensor cutoff = add(mean(x, -1, true), mul(stddev(x, -1, 0, true), multiplier));
  return relu(sub(x, cutoff));
}

std::vector<Tensor> linear_each(const std::vector<Tensor>& xs, const std::vector<Tensor>& weights) {
  VG_CHECK(!xs.empty() && xs.size() == weights.size(), "linear_each", xs.size(), " inputs for ", weights.size(),
           " weights");
  if constexpr (kCudaBuild) {
    // [..., in_i] with the same leading dims, contiguous -> [rows, in_i] views
    const Tensor& first = xs.front();
    bool kernel_takes = fusable(joined(xs, weights)) && first.rank() >= 1;
    std::vector<Tensor> rows;
    for (const Tensor& x : xs) {
      kernel_takes = kernel_takes && x.rank() == first.rank();
      for (int64_t d = 0; kernel_takes && d + 1 < x.rank(); ++d) kernel_takes = x.size(d) == first.size(d);
      if (kernel_takes) rows.push_back(x.reshape({-1, x.size(-1)}));
    }
    if (kernel_takes && cuda::linear_each_applies(rows, weights)) {
      std::vector<Tensor> outs, out_rows;
      for (size_t i = 0; i < xs.size(); ++i) {
        Shape shape = xs[i].shape();
        shape[shape.rank() - 1] = weights[i].size(0);
        outs.push_back(Tensor::empty(shape, first.dtype(), first.device()));
        out_rows.push_back(outs.back().reshape({-1, weights[i].size(0)}));
      }
      cuda::linear_each(rows, weights, out_rows);
      return outs;
    }
  }
  std::vector<Tensor> outs;
  for (size_t i = 0; i < xs.size(); ++i) outs.push_back(linear(xs[i], weights[i]));
  return outs;
}

std::vector<Tensor> linear_many(const Tensor& x, const std::vector<Tensor>& weights) {
  return linear_each(std::vector<Tensor>(weights.size(), x), weights);
}

Tensor linear_gated_gelu(const Tensor& x, const Tensor& gate, const Tensor& up) {
  return gated_product(x, gate, &up, nullptr);
}

Tensor linear_gated_gelu_by(const Tensor& x, const Tensor& gate, const Tensor& multiplier) {
  return gated_product(x, gate, nullptr, &multiplier);
}

}  // namespace vg
