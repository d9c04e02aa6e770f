#include "models/clip/weights.h"

#include "core/error.h"

namespace vg::clip {
namespace {

using models::Linear;
using models::WeightLoader;

constexpr const char* kPatchEmbedding = "embeddings.patch_embedding.weight";

Linear load_linear(WeightLoader& w, const std::string& name, int64_t out, int64_t in) {
  Linear l;
  l.weight = w.load(name + ".weight", {out, in});
  l.bias = w.load(name + ".bias", {out});
  l.name = name + ".weight";
  return l;
}

Norm load_norm(WeightLoader& w, const std::string& name, int64_t D) {
  return {w.load(name + ".weight", {D}), w.load(name + ".bias", {D})};
}

LayerWeights load_layer(WeightLoader& w, const Config& c, const std::string& prefix, int64_t layer) {
  const int64_t D = c.hidden_size, F = c.intermediate_size;
  const std::string p = prefix + "encoder.layers." + std::to_string(layer) + ".";
  LayerWeights l;
  l.layer_norm1 = load_norm(w, p + "layer_norm1", D);
  l.q = load_linear(w, p + "self_attn.q_proj", D, D);
  l.k = load_linear(w, p + "self_attn.k_proj", D, D);
  l.v = load_linear(w, p + "self_attn.v_proj", D, D);
  l.out = load_linear(w, p + "self_attn.out_proj", D, D);
  l.layer_norm2 = load_norm(w, p + "layer_norm2", D);
  l.fc1 = load_linear(w, p + "mlp.fc1", F, D);
  l.fc2 = load_linear(w, p + "mlp.fc2", D, F);
  return l;
}

}  // namespace

std::string detect_prefix(const models::WeightSource& source) {
  for (const char* prefix : {"vision_model.", ""}) {
    if (source.contains(std::string(prefix) + kPatchEmbedding)) return prefix;
  }
  throw Error("clip", str(source.describe(), " holds no CLIP vision tower: neither 'vision_model.", kPatchEmbedding,
                          "' nor '", kPatchEmbedding, "' is in it (is this the right checkpoint for the model?)"));
}

Weights load_weights(const models::WeightSource& source, const Config& c, DType compute_dtype, Device device) {
  WeightLoader w(source, "clip", compute_dtype, device);
  const int64_t D = c.hidden_size, P = c.patch_size;
  Weights out;
  out.prefix = detect_prefix(source);
  const std::string& p = out.prefix;
  out.class_embedding = w.load(p + "embeddings.class_embedding", {D});
  out.patch_embedding = w.load(p + kPatchEmbedding, {D, c.num_channels, P, P});
  out.position_embedding = w.load(p + "embeddings.position_embedding.weight", {c.num_positions(), D});
  out.pre_layrnorm = load_norm(w, p + "pre_layrnorm", D);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) out.layers.push_back(load_layer(w, c, p, l));
  // Only the pooled output uses it; LLaVA-style features never do.
  if (w.contains(p + "post_layernorm.weight") || w.contains(p + "post_layernorm.bias")) {
    out.post_layernorm = load_norm(w, p + "post_layernorm", D);
  }
  return out;
}

int64_t count_parameters(const Config& c) {
  const int64_t D = c.hidden_size, F = c.intermediate_size, P = c.patch_size;
  const int64_t embeddings = D + D * c.num_channels * P * P + c.num_positions() * D;
  const int64_t layer = 2 * 2 * D + 4 * (D * D + D) + (F * D + F) + (D * F + D);
  return embeddings + 2 * D /* pre_layrnorm */ + c.num_hidden_layers * layer + 2 * D /* post_layernorm */;
}

}  // namespace vg::clip
