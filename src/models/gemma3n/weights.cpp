#include "models/gemma3n/weights.h"

#include "ops/ops.h"

namespace vg::gemma3n {
namespace {

using models::Linear;
using models::WeightLoader;

std::string layer_name(const Config& c, int64_t layer, const std::string& rest) {
  return c.weight_prefix + "layers." + std::to_string(layer) + "." + rest;
}

// Loads checkpoint tensor `from` under the model-facing name `as` (the sliced layer index).
Linear load_linear(WeightLoader& w, const std::string& from, const std::string& as, const Shape& shape) {
  Linear l;
  l.weight = w.load(from, shape);
  l.name = as;
  return l;
}

LayerWeights load_layer(WeightLoader& w, const Config& ckpt, const Config& model, int64_t old_index,
                        int64_t new_index) {
  const int64_t D = model.hidden_size, hd = model.head_dim, H = model.num_attention_heads;
  const int64_t K = model.num_key_value_heads, N = model.altup_num_inputs, P = model.hidden_size_per_layer_input;
  const int64_t R = model.laurel_rank;
  const int64_t F_ckpt = ckpt.intermediate_size[static_cast<size_t>(old_index)];
  const int64_t F = model.intermediate_size[static_cast<size_t>(new_index)];
  auto from = [&](const std::string& rest) { return layer_name(ckpt, old_index, rest); };
  auto as = [&](const std::string& rest) { return layer_name(model, new_index, rest); };
  auto linear = [&](const std::string& rest, const Shape& shape) {
    return load_linear(w, from(rest), as(rest), shape);
  };

  LayerWeights l;
  l.input_norm = w.load(from("input_layernorm.weight"), {D});
  l.post_attention_norm = w.load(from("post_attention_layernorm.weight"), {D});
  l.pre_ffn_norm = w.load(from("pre_feedforward_layernorm.weight"), {D});
  l.post_ffn_norm = w.load(from("post_feedforward_layernorm.weight"), {D});

  l.q = linear("self_attn.q_proj.weight", {H * hd, D});
  l.o = linear("self_attn.o_proj.weight", {D, H * hd});
  l.q_norm = w.load(from("self_attn.q_norm.weight"), {hd});
  if (!model.is_kv_consumer(new_index)) {
    l.k = linear("self_attn.k_proj.weight", {K * hd, D});
    l.v = linear("self_attn.v_proj.weight", {K * hd, D});
    l.k_norm = w.load(from("self_attn.k_norm.weight"), {hd});
  }

  // MatFormer: a narrower FFN keeps the first F hidden units of the checkpoint's F_ckpt.
  l.gate = linear("mlp.gate_proj.weight", {F_ckpt, D});
  l.up = linear("mlp.up_proj.weight", {F_ckpt, D});
  l.down = linear("mlp.down_proj.weight", {D, F_ckpt});
  if (F != F_ckpt) {
    NoGradGuard no_grad;
    l.gate.weight = l.gate.weight.slice(0, 0, F).contiguous();
    l.up.weight = l.up.weight.slice(0, 0, F).contiguous();
    l.down.weight = l.down.weight.slice(1, 0, F).contiguous();
  }

  l.correct_output_scale = w.load(from("altup.correct_output_scale"), {D});
  l.correction_coefs = w.load(from("altup.correction_coefs.weight"), {N, N});
  l.prediction_coefs = w.load(from("altup.prediction_coefs.weight"), {N * N, N});
  l.modality_router = w.load(from("altup.modality_router.weight"), {N, D});
  l.router_norm = w.load(from("altup.router_norm.weight"), {D});
  if (model.altup_coef_clip > 0) {
    // transformers clamps the correction coefficients on every call; once at load is the same.
    NoGradGuard no_grad;
    l.correction_coefs = clamp(l.correction_coefs, -model.altup_coef_clip, model.altup_coef_clip);
  }

  l.laurel_left = linear("laurel.linear_left.weight", {R, D});
  l.laurel_right = linear("laurel.linear_right.weight", {D, R});
  l.laurel_norm = w.load(from("laurel.post_laurel_norm.weight"), {D});

  l.ple_gate = linear("per_layer_input_gate.weight", {P, D});
  l.ple_projection = linear("per_layer_projection.weight", {D, P});
  l.ple_norm = w.load(from("post_per_layer_input_norm.weight"), {D});
  return l;
}

}  // namespace

Weights load_weights(const models::WeightSource& source, const Config& ckpt, const SlicedConfig& sliced,
                     DType compute_dtype, Device device) {
  const Config& model = sliced.config;
  WeightLoader w(source, "gemma3n", compute_dtype, device);
  const std::string& p = ckpt.weight_prefix;
  const int64_t D = model.hidden_size, P = model.hidden_size_per_layer_input, N = model.altup_num_inputs;
  const int64_t L_ckpt = ckpt.num_hidden_layers, L = model.num_hidden_layers;

  Weights out;
  out.embed_tokens = w.load(p + "embed_tokens.weight", {model.vocab_size, D});
  out.embed_tokens_per_layer =
      w.load(p + "embed_tokens_per_layer.weight", {model.vocab_size_per_layer_input, L_ckpt * P}, /*host_table=*/true);
  Tensor projection = w.load(p + "per_layer_model_projection.weight", {L_ckpt * P, D});
  if (L != L_ckpt) {
    // Keep the projection rows and table columns of the kept layers.
    NoGradGuard no_grad;
    out.ple_kept_layers = Tensor::from_vector(sliced.kept_layers, {L}).to(device);
    projection = index_select(projection.reshape({L_ckpt, P, D}), 0, out.ple_kept_layers).reshape({L * P, D});
  }
  out.per_layer_model_projection.weight = projection;
  out.per_layer_model_projection.name = model.weight_prefix + "per_layer_model_projection.weight";
  out.per_layer_projection_norm = w.load(p + "per_layer_projection_norm.weight", {P});
  for (int64_t i = 0; i + 1 < N; ++i) {
    const std::string k = std::to_string(i);
    out.altup_projections.push_back(
        load_linear(w, p + "altup_projections." + k + ".weight", p + "altup_projections." + k + ".weight", {D, D}));
    out.altup_unembed_projections.push_back(load_linear(w, p + "altup_unembed_projections." + k + ".weight",
                                                        p + "altup_unembed_projections." + k + ".weight", {D, D}));
  }
  out.final_norm = w.load(p + "norm.weight", {D});
  for (int64_t n = 0; n < L; ++n) {
    out.layers.push_back(load_layer(w, ckpt, model, sliced.kept_layers[static_cast<size_t>(n)], n));
  }
  return out;
}

ParameterCounts count_parameters(const Config& c) {
  const int64_t D = c.hidden_size, hd = c.head_dim, H = c.num_attention_heads, K = c.num_key_value_heads;
  const int64_t N = c.altup_num_inputs, P = c.hidden_size_per_layer_input, R = c.laurel_rank;
  const int64_t L = c.num_hidden_layers;
  ParameterCounts counts;
  counts.embeddings = c.vocab_size * D;
  counts.per_layer_embeddings = c.vocab_size_per_layer_input * L * P;
  int64_t rest = L * P * D + P + 2 * (N - 1) * D * D + D;
  for (int64_t l = 0; l < L; ++l) {
    const int64_t F = c.intermediate_size[static_cast<size_t>(l)];
    rest += 4 * D;                              // the four block norms
    rest += 2 * H * hd * D + 2 * K * hd * D;    // q, o, k, v (k/v stored even for consumers)
    rest += 2 * hd;                             // q_norm, k_norm
    rest += 3 * F * D;                          // gate, up, down
    rest += D + N * N + N * N * N + N * D + D;  // AltUp
    rest += 2 * R * D + D;                      // LAuReL
    rest += 2 * P * D + D;                      // per-layer input gate and projection
  }
  counts.effective = rest;
  counts.total = rest + counts.embeddings + counts.per_layer_embeddings;
  return counts;
}

}  // namespace vg::gemma3n
