#include "models/videomamba/weights.h"

#include <cmath>

#include "ops/ops.h"

namespace vg::videomamba {
namespace {

constexpr const char* kComponent = "videomamba";

using models::Linear;
using models::WeightLoader;

Linear load_linear(WeightLoader& w, const std::string& name, const Shape& shape) {
  Linear l;
  l.weight = w.load(name, shape);
  l.name = name;
  return l;
}

// suffix "" for the forward direction, "_b" for the backward one.
DirectionWeights load_direction(WeightLoader& w, const Config& c, const std::string& mixer, const std::string& suffix) {
  const int64_t E = c.d_inner(), N = c.d_state, R = c.dt_rank;
  DirectionWeights d;
  d.conv_weight = w.load(mixer + "conv1d" + suffix + ".weight", {E, 1, c.d_conv});
  d.conv_bias = w.load(mixer + "conv1d" + suffix + ".bias", {E});
  d.x_proj = load_linear(w, mixer + "x_proj" + suffix + ".weight", {c.x_proj_rows(), E});
  d.dt_proj = load_linear(w, mixer + "dt_proj" + suffix + ".weight", {E, R});
  d.dt_bias = w.load(mixer + "dt_proj" + suffix + ".bias", {E});
  d.A_log = w.load(mixer + (suffix.empty() ? "A_log" : "A_b_log"), {E, N});
  d.D = w.load(mixer + "D" + suffix, {E});
  return d;
}

LayerWeights load_layer(WeightLoader& w, const Config& c, const std::string& prefix, int64_t index) {
  const int64_t C = c.embed_dim, E = c.d_inner();
  const std::string layer = prefix + "layers." + std::to_string(index) + ".";
  const std::string mixer = layer + "mixer.";
  LayerWeights l;
  l.norm = w.load(layer + "norm.weight", {C});
  l.mixer.in_proj = load_linear(w, mixer + "in_proj.weight", {2 * E, C});
  l.mixer.out_proj = load_linear(w, mixer + "out_proj.weight", {C, E});
  l.mixer.forward_dir = load_direction(w, c, mixer, "");
  if (c.bidirectional) l.mixer.backward_dir = load_direction(w, c, mixer, "_b");
  return l;
}

// F.interpolate(x.permute(0, 2, 1), size=rows, mode="linear", align_corners=False) as a
// [rows, T0] matrix: output row i reads source position (i + 0.5) * T0 / rows - 0.5, clamped at 0.
Tensor linear_interpolation_matrix(int64_t source_rows, int64_t rows, DType dtype) {
  std::vector<double> m(static_cast<size_t>(rows * source_rows), 0.0);
  const double scale = static_cast<double>(source_rows) / static_cast<double>(rows);
  for (int64_t i = 0; i < rows; ++i) {
    const double src = std::max(0.0, scale * (static_cast<double>(i) + 0.5) - 0.5);
    const auto i0 = static_cast<int64_t>(src);
    const int64_t i1 = i0 < source_rows - 1 ? i0 + 1 : i0;
    const double l1 = src - static_cast<double>(i0);
    m[static_cast<size_t>(i * source_rows + i0)] += 1.0 - l1;
    m[static_cast<size_t>(i * source_rows + i1)] += l1;
  }
  return Tensor::from_vector(m, {rows, source_rows}).to(dtype);
}

// [1, T0, C] as stored -> [1, T, C]; absent (classifiers made from image weights) -> zeros.
Tensor load_temporal(WeightLoader& w, const Config& c, const std::string& prefix, bool optional, DType dtype) {
  const std::string name = prefix + "temporal_pos_embedding";
  const int64_t C = c.embed_dim, T = c.temporal_positions();
  if (!w.contains(name) && optional) {
    // Upstream's video_sm classifier starts the temporal embedding from zeros for image weights.
    return zeros({1, T, C}, dtype, w.device()).set_name(name);
  }
  const Shape stored = w.shape_of(name);
  VG_CHECK(stored.rank() == 3 && stored[0] == 1 && stored[2] == C && stored[1] > 0, kComponent, "tensor '", name,
           "' in ", w.source().describe(), " has shape ", stored, ", expected [1, frames, ", C, "]");
  Tensor t = w.load(name, stored);
  if (stored[1] == T) return t;
  NoGradGuard no_grad;
  // [T, T0] @ [T0, C] -> [1, T, C]
  Tensor out = matmul(linear_interpolation_matrix(stored[1], T, dtype).to(w.device()), t.select(0, 0))
                   .unsqueeze(0)
                   .contiguous();
  return out.set_name(name);
}

// [C, 3, k, p, p] as stored, or a 2D [C, 3, p, p] inflated to 3D with the weight in the middle
// frame (upstream's inflate_weight, center=True).
Tensor load_patch_weight(WeightLoader& w, const Config& c, const std::string& prefix) {
  const std::string name = prefix + "patch_embed.proj.weight";
  const int64_t C = c.embed_dim, k = c.tubelet, p = c.patch_size;
  const Shape full{C, c.channels, k, p, p};
  if (w.shape_of(name).rank() != 4) return w.load(name, full);
  Tensor w2d = w.load(name, {C, c.channels, p, p});
  NoGradGuard no_grad;
  std::vector<Tensor> frames;
  for (int64_t t = 0; t < k; ++t) frames.push_back(t == k / 2 ? w2d : zeros_like(w2d));
  return stack(frames, 2).set_name(name);  // [C, 3, k, p, p]
}

}  // namespace

std::vector<Tensor*> Weights::parameters() {
  std::vector<Tensor*> out = {&patch_weight, &patch_bias, &cls_token, &pos_embed, &temporal_pos_embed};
  for (LayerWeights& l : layers) {
    out.push_back(&l.norm);
    out.push_back(&l.mixer.in_proj.weight);
    out.push_back(&l.mixer.out_proj.weight);
    for (DirectionWeights* d : {&l.mixer.forward_dir, &l.mixer.backward_dir}) {
      if (!d->A_log.defined()) continue;
      for (Tensor* t :
           {&d->conv_weight, &d->conv_bias, &d->x_proj.weight, &d->dt_proj.weight, &d->dt_bias, &d->A_log, &d->D}) {
        out.push_back(t);
      }
    }
  }
  out.push_back(&final_norm);
  return out;
}

Weights load_weights(const models::WeightSource& source, const Config& config, DType compute_dtype, Device device) {
  config.validate();
  const std::string p = config.weight_prefix.has_value() ? *config.weight_prefix : detect_prefix(source);
  WeightLoader w(source, kComponent, compute_dtype, device);
  const int64_t C = config.embed_dim;

  Weights out;
  out.patch_weight = load_patch_weight(w, config, p);
  out.patch_bias = w.load(p + "patch_embed.proj.bias", {C});
  out.cls_token = w.load(p + "cls_token", {1, 1, C});
  const std::string pos = p + "pos_embed";
  const Shape pos_shape{1, 1 + config.patches_per_frame(), C};
  VG_CHECK(!w.contains(pos) || w.shape_of(pos) == pos_shape, kComponent, "tensor '", pos, "' in ", source.describe(),
           " has shape ", w.contains(pos) ? w.shape_of(pos) : Shape{}, ", expected ", pos_shape, " for img_size ",
           config.img_size, " and patch_size ", config.patch_size,
           " (interpolating the spatial position embedding is not supported)");
  out.pos_embed = w.load(pos, pos_shape);

  // The classifier layout (video_sm / image_sm) names the final norm norm_f and may lack the
  // temporal embedding; the UMT layout must have both.
  const bool classifier = !w.contains(p + "norm.weight") && w.contains(p + "norm_f.weight");
  out.temporal_pos_embed = load_temporal(w, config, p, classifier, compute_dtype);
  for (int64_t i = 0; i < config.depth; ++i) out.layers.push_back(load_layer(w, config, p, i));
  VG_CHECK(w.contains(p + "norm.weight") || w.contains(p + "norm_f.weight"), kComponent, source.describe(),
           " has neither '", p, "norm.weight' nor '", p, "norm_f.weight' (the final RMSNorm)");
  out.final_norm = w.load(p + (classifier ? "norm_f.weight" : "norm.weight"), {C});
  return out;
}

}  // namespace vg::videomamba
