#include "models/clip/init.h"

#include <cmath>

#include "models/common/weight_init.h"

namespace vg::clip {
namespace {

using models::constant_init;
using models::InitRule;
using models::normal_init;
using models::TensorSpec;

constexpr const char* kPrefix = "vision_model.";
// CLIPVisionConfig's defaults; config.json carries them (Config::to_json).
constexpr double kInitializerRange = 0.02;
constexpr double kInitializerFactor = 1.0;

std::vector<TensorSpec> tensor_specs(const Config& c) {
  c.validate();
  const int64_t D = c.hidden_size, F = c.intermediate_size, P = c.patch_size;
  const double d = static_cast<double>(D), layers = static_cast<double>(c.num_hidden_layers);
  const double factor = kInitializerFactor;
  // CLIPAttention: in_proj_std for q/k/v, out_proj_std for out_proj. CLIPMLP: fc_std for fc1,
  // in_proj_std (the same value as attention's) for fc2.
  const double in_proj_std = std::pow(d, -0.5) * std::pow(2.0 * layers, -0.5) * factor;
  const double out_proj_std = std::pow(d, -0.5) * factor;
  const double fc_std = std::pow(2.0 * d, -0.5) * factor;
  const InitRule zeros = constant_init(0.0), ones = constant_init(1.0);

  std::vector<TensorSpec> specs;
  auto add = [&](const std::string& name, const Shape& shape, const InitRule& init) {
    specs.push_back({kPrefix + name, shape, init});
  };
  auto layer_norm = [&](const std::string& name) {
    add(name + ".weight", {D}, ones);
    add(name + ".bias", {D}, zeros);
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in, double std) {
    add(name + ".weight", {out, in}, normal_init(std));
    add(name + ".bias", {out}, zeros);
  };
  add("embeddings.class_embedding", {D}, normal_init(std::pow(d, -0.5) * factor));
  add("embeddings.patch_embedding.weight", {D, c.num_channels, P, P}, normal_init(kInitializerRange * factor));
  add("embeddings.position_embedding.weight", {c.num_positions(), D}, normal_init(kInitializerRange * factor));
  layer_norm("pre_layrnorm");
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    layer_norm(p + "layer_norm1");
    linear(p + "self_attn.q_proj", D, D, in_proj_std);
    linear(p + "self_attn.k_proj", D, D, in_proj_std);
    linear(p + "self_attn.v_proj", D, D, in_proj_std);
    linear(p + "self_attn.out_proj", D, D, out_proj_std);
    layer_norm(p + "layer_norm2");
    linear(p + "mlp.fc1", F, D, fc_std);
    linear(p + "mlp.fc2", D, F, in_proj_std);
  }
  layer_norm("post_layernorm");
  return specs;
}

}  // namespace

std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype) {
  return models::materialize(tensor_specs(config), seed, dtype);
}

void save_checkpoint(const std::string& folder, const Config& config, const std::map<std::string, Tensor>& weights,
                     int64_t max_shard_bytes) {
  models::check_against_specs(tensor_specs(config), weights, "clip");
  models::write_checkpoint_folder(folder, config.to_json(), weights, max_shard_bytes);
}

Config small_config() {
  Config c;
  c.hidden_size = 64;
  c.intermediate_size = 256;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_channels = 3;
  c.image_size = 224;
  c.patch_size = 16;
  c.hidden_act = Activation::QuickGelu;
  c.validate();
  return c;
}

}  // namespace vg::clip
