#include "models/clip/model.h"

#include <cmath>

#include "ops/ops.h"

namespace vg::clip {
namespace {

using models::apply_linear;

constexpr const char* kComponent = "clip";

Tensor norm(const Tensor& x, const Norm& n, double eps) { return layer_norm(x, n.weight, n.bias, eps); }

Tensor activation(Activation act, const Tensor& x) { return act == Activation::QuickGelu ? quick_gelu(x) : gelu(x); }

}  // namespace

Model Model::load(const std::string& path, const LoadOptions& options) {
  Config config = Config::load(path);
  models::CheckpointSource source(io::Checkpoint::open(path));
  return from_source(config, source, options);
}

Model Model::from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options) {
  VG_CHECK(is_floating(options.dtype), kComponent, "the compute dtype must be floating, got ", options.dtype);
  config.validate();
  Model m;
  m.config_ = config;
  m.weights_ = load_weights(source, config, options.dtype, options.device);
  return m;
}

Tensor Model::embed(const Tensor& pixels) const {
  const Config& c = config_;
  const Weights& w = weights_;
  const int64_t C = c.num_channels, S = c.image_size, D = c.hidden_size, N = c.num_patches();
  VG_CHECK(pixels.defined() && pixels.rank() == 4 && pixels.size(0) > 0 && pixels.size(1) == C && pixels.size(2) == S &&
               pixels.size(3) == S,
           kComponent, "pixel values must be [B, ", C, ", ", S, ", ", S, "] with B > 0 (the tower's image size is ", S,
           "x", S, "; resize and crop first), got ", pixels.describe());
  VG_CHECK(is_floating(pixels.dtype()), kComponent, "pixel values must be floating (normalised), got ", pixels.dtype());
  const int64_t B = pixels.size(0);
  // transformers casts the pixels to the patch embedding's dtype; they move to the tower's device.
  const Tensor x = pixels.to(device()).to(dtype());                                       // [B, C, S, S]
  Tensor patches = conv2d(x, w.patch_embedding, Tensor(), {c.patch_size, c.patch_size});  // [B, D, S/P, S/P]
  patches = patches.reshape({B, D, N}).transpose(1, 2);                 // [B, N, D], row-major patches
  Tensor cls = w.class_embedding.reshape({1, 1, D}).expand({B, 1, D});  // [B, 1, D]
  Tensor e = add(concat({cls, patches}, 1), w.position_embedding);      // [B, N + 1, D]
  return norm(e, w.pre_layrnorm, c.layer_norm_eps);                     // [B, N + 1, D]
}

Tensor Model::encoder_layer(int64_t layer, const Tensor& x) const {
  const Config& c = config_;
  VG_CHECK(layer >= 0 && layer < c.num_hidden_layers, kComponent, "encoder layer ", layer, " does not exist (",
           c.num_hidden_layers, " layers)");
  VG_CHECK(x.rank() == 3 && x.size(2) == c.hidden_size, kComponent, "encoder layer input must be [B, T, ",
           c.hidden_size, "], got ", x.describe());
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t B = x.size(0), T = x.size(1), H = c.num_attention_heads, hd = c.head_dim(), D = c.hidden_size;

  // Self-attention (CLIPAttention): bidirectional, scale head_dim^-0.5.
  Tensor h = norm(x, w.layer_norm1, c.layer_norm_eps);                         // [B, T, D]
  Tensor q = apply_linear(w.q, h, lora_).view({B, T, H, hd}).transpose(1, 2);  // [B, H, T, hd]
  Tensor k = apply_linear(w.k, h, lora_).view({B, T, H, hd}).transpose(1, 2);  // [B, H, T, hd]
  Tensor v = apply_linear(w.v, h, lora_).view({B, T, H, hd}).transpose(1, 2);  // [B, H, T, hd]
  AttentionOptions options;
  options.causal = false;
  options.scale = 1.0 / std::sqrt(static_cast<double>(hd));
  Tensor o = scaled_dot_product_attention(q, k, v, options);             // [B, H, T, hd]
  o = apply_linear(w.out, o.transpose(1, 2).reshape({B, T, D}), lora_);  // [B, T, D]
  Tensor r = add(x, o);                                                  // [B, T, D]

  // MLP (CLIPMLP): fc1 -> activation -> fc2.
  h = norm(r, w.layer_norm2, c.layer_norm_eps);                 // [B, T, D]
  h = activation(c.hidden_act, apply_linear(w.fc1, h, lora_));  // [B, T, F]
  return add(r, apply_linear(w.fc2, h, lora_));                 // [B, T, D]
}

Tensor Model::run_layers(const Tensor& pixels, int64_t count, std::vector<Tensor>* states) const {
  Tensor x = embed(pixels);  // [B, N + 1, D], hidden state 0
  if (states != nullptr) states->push_back(x);
  for (int64_t l = 0; l < count; ++l) {
    x = encoder_layer(l, x);  // [B, N + 1, D], hidden state l + 1
    if (states != nullptr) states->push_back(x);
  }
  return x;
}

Tensor Model::hidden_states(const Tensor& pixels, int64_t index) const {
  return run_layers(pixels, config_.resolve_hidden_state(index), nullptr);  // [B, N + 1, D]
}

std::vector<Tensor> Model::all_hidden_states(const Tensor& pixels) const {
  std::vector<Tensor> states;
  run_layers(pixels, config_.num_hidden_layers, &states);  // L + 1 x [B, N + 1, D]
  return states;
}

Tensor Model::features(const Tensor& pixels, int64_t layer, bool drop_cls) const {
  Tensor h = hidden_states(pixels, layer);         // [B, N + 1, D]
  return drop_cls ? h.slice(1, 1, h.size(1)) : h;  // [B, N, D] (select_feature "patch") or [B, N + 1, D]
}

Tensor Model::pooled(const Tensor& pixels) const {
  VG_CHECK(weights_.post_layernorm.defined(), kComponent,
           "the checkpoint has no post_layernorm, which the pooled output needs");
  Tensor last = hidden_states(pixels, -1);                                          // [B, N + 1, D]
  return norm(last.select(1, 0), weights_.post_layernorm, config_.layer_norm_eps);  // [B, D]
}

}  // namespace vg::clip
