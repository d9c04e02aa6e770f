#include "models/gemma3n/decoder_layer.h"

#include <cmath>

#include "ops/fused.h"
#include "ops/ops.h"

namespace vg::gemma3n {
namespace {

using models::apply_linear;

// Both AltUp steps take their coefficients from the router (transformers'
// compute_router_modalities and what follows it), in ops/fused.h: m = tanh(RMSNorm(x) @ Wr^T / D)
// -> [B, T, N], then m @ Wmix^T + offset. The 1/D scales the [B, T, N] product rather than the
// [B, T, D] input: the same values (exactly so for a power-of-two D) for a fraction of the work.
//   predict: pred_i = S_i + sum_j C[i][j] S_j, C = (m @ Wp^T) reshaped [N, N] row-major, m from
//            the active stream; the layer's input norm of the active prediction in the same pass.
//   correct: corr_i = pred_i + (m2 @ Wc^T + 1)_i * (activated - pred_active), m2 from the
//            activated stream (the MLP's branch joining the residual, in the same pass), with the
//            corrected active stream scaled for the per-layer input gate (when the config scales it).

// The projections that read the normed input: q, k and v (k and v on producers only) and
// LAuReL's first, in one launch on a decode step.
struct InputProjections {
  Tensor q, k, v;  // [B, T, H * hd], [B, T, K * hd] x 2
  Tensor laurel;   // [B, T, laurel rank]
};

InputProjections project_input(const Config& c, const LayerWeights& w, int64_t layer, const Tensor& xn,
                               const models::LoraSet* lora) {
  if (c.is_kv_consumer(layer)) {
    const std::vector<Tensor> p = apply_linears({&w.q, &w.laurel_left}, xn, lora);
    return {p[0], Tensor(), Tensor(), p[1]};
  }
  const std::vector<Tensor> p = apply_linears({&w.q, &w.k, &w.v, &w.laurel_left}, xn, lora);
  return {p[0], p[1], p[2], p[3]};
}

// Attention (transformers' Gemma3nTextAttention): q/k/v norms over head_dim, RoPE, scale 1.0,
// causal with a sliding window on sliding layers; consumers reuse the producer's K/V. Returns the
// heads before the output projection, [B, T, H * hd].
Tensor attention_heads(const Config& c, const LayerWeights& w, int64_t layer, const InputProjections& x,
                       const AttentionInputs& in, SharedKV& kv) {
  const int64_t B = x.q.size(0), T = x.q.size(1), H = c.num_attention_heads, K = c.num_key_value_heads;
  const int64_t hd = c.head_dim;
  // [B, T, H * hd] -> [B, T, H, hd] -> normed, rotated -> [B, H, T, hd]
  const bool producer = !c.is_kv_consumer(layer);
  std::vector<NormRope> parts = {{x.q.view({B, T, H, hd}), w.q_norm, true}};
  if (producer) {
    parts.push_back({x.k.view({B, T, K, hd}), w.k_norm, true});
    parts.push_back({x.v.view({B, T, K, hd}), Tensor(), false});
  }
  const std::vector<Tensor> normed = rms_norm_rope_each(parts, c.rms_norm_eps, in.rope.cos, in.rope.sin);
  const Tensor q = normed[0].transpose(1, 2);
  if (producer) {
    const Tensor k = normed[1].transpose(1, 2), v = normed[2].transpose(1, 2);
    if (in.cache != nullptr) {
      KVCache::View cached = in.cache->append(layer, k, v, in.valid);  // past + this step
      kv = {cached.k, cached.v, cached.valid};
    } else {
      kv = {k, v, in.valid};
    }
  }
  AttentionOptions options;
  options.causal = true;
  options.window = c.window_of(layer);
  options.scale = 1.0;  // the q/k norms replace 1/sqrt(head_dim)
  Tensor mask = kv.valid.defined() ? kv.valid.reshape({B, 1, 1, kv.valid.size(1)}) : Tensor();
  Tensor o = scaled_dot_product_attention(q, kv.k, kv.v, options, mask);  // [B, H, T, hd]
  return o.transpose(1, 2).reshape({B, T, H * hd});
}

// Gated MLP with Gaussian top-k sparsity on the gate (shifted, not masked: relu(g - cutoff)).
Tensor mlp(const Config& c, const LayerWeights& w, int64_t layer, const Tensor& x, const models::LoraSet* lora) {
  const double sparsity = c.activation_sparsity[static_cast<size_t>(layer)];
  // [B, T, D] -> [B, T, F] -> [B, T, D]
  if (sparsity == 0.0) return apply_linear(w.down, models::apply_gated_linears(w.gate, w.up, x, lora), lora);
  const std::vector<Tensor> gate_up = apply_linears({&w.gate, &w.up}, x, lora);  // 2 x [B, T, F]
  const Tensor g = gaussian_topk_shift(gate_up[0], sparsity_std_multiplier(sparsity));
  return apply_linear(w.down, gated_gelu(g, gate_up[1]), lora);  // [B, T, D]
}

// Inverse standard normal CDF: a rational first guess refined by Newton steps on erfc.
double normal_quantile(double p) {
  double x = std::sqrt(2.0) * (p < 0.5 ? -1.0 : 1.0) * std::sqrt(-std::log(4.0 * p * (1.0 - p)));  // rough
  for (int i = 0; i < 50; ++i) {
    const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    const double step = (cdf - p) / pdf;
    x -= step;
    if (std::abs(step) < 1e-15) break;
  }
  return x;
}

}  // namespace

double sparsity_std_multiplier(double sparsity) { return static_cast<float>(normal_quantile(sparsity)); }

std::vector<Tensor> decoder_layer(const Config& c, const LayerWeights& w, int64_t layer,
                                  const std::vector<Tensor>& streams, const Tensor& ple, const AttentionInputs& attn_in,
                                  SharedKV& kv, const models::LoraSet* lora) {
  const double eps = c.rms_norm_eps;
  const auto active = static_cast<size_t>(c.altup_active_idx);
  // N x [B, T, D], [B, T, D]
  const auto [pred, xn] = altup_predict_then_norm(streams, c.altup_active_idx, w.router_norm, eps, w.modality_router,
                                                  w.prediction_coefs, w.input_norm);
  const Tensor& a = pred[active];
  const InputProjections projected = project_input(c, w, layer, xn, lora);
  // The attention's output projection and LAuReL's second, in one launch on a decode step:
  // [B, T, H * hd] -> [B, T, D], [B, T, laurel rank] -> [B, T, D]
  const std::vector<Tensor> outputs = models::apply_linears_each(
      {&w.o, &w.laurel_right}, {attention_heads(c, w, layer, projected, attn_in, kv), projected.laurel}, lora);
  // LAuReL: laurel = xn + RMSNorm(xn @ Wl^T @ Wr^T), [B, T, D]
  const NormedBranch laurel{outputs[1], w.laurel_norm, xn};
  // s1 = (a + RMSNorm(attention) + laurel) / sqrt(2), and RMSNorm(s1) for the MLP
  const auto [s1, s1_normed] = rms_norm_add_then_norm(outputs[0], w.post_attention_norm, eps, {a}, 1.0 / std::sqrt(2.0),
                                                      w.pre_ffn_norm, &laurel);
  // N x [B, T, D], [B, T, D]
  auto [corrected, f] = rms_norm_add_then_correct(
      mlp(c, w, layer, s1_normed, lora), w.post_ffn_norm, eps, s1, pred, c.altup_active_idx, w.router_norm,
      w.modality_router, w.correction_coefs, c.altup_correct_scale ? w.correct_output_scale : Tensor());

  // Per-layer input gate: the corrected active stream, scaled, gates this layer's PLE input.
  f = models::apply_gated_linear(w.ple_gate, f, ple, lora);  // [B, T, P]
  f = apply_linear(w.ple_projection, f, lora);               // [B, T, D]
  // RMSNorm(f) joins every stream but the first (transformers: [1:]).
  std::vector<Tensor> rest =
      rms_norm_add_to_each(f, w.ple_norm, eps, std::vector<Tensor>(corrected.begin() + 1, corrected.end()));
  for (size_t i = 1; i < corrected.size(); ++i) corrected[i] = rest[i - 1];
  return corrected;
}

}  // namespace vg::gemma3n
