#include "models/gemma3n/decoder_layer.h"

#include <cmath>

#include "ops/ops.h"

namespace vg::gemma3n {
namespace {

using models::apply_linear;

// AltUp router: tanh(RMSNorm(x) / D @ Wr^T) -> [B, T, N] (transformers' compute_router_modalities).
// The 1/D scales the [B, T, N] product rather than the [B, T, D] input: the same values (exactly
// so for a power-of-two D) for a fraction of the work.
Tensor router_modalities(const Config& c, const LayerWeights& w, const Tensor& x) {
  Tensor r = linear(rms_norm(x, w.router_norm, c.rms_norm_eps), w.modality_router);  // [B, T, N]
  return tanh(mul(r, 1.0 / static_cast<double>(c.hidden_size)));
}

// AltUp predict: pred_i = S_i + sum_j C[i][j] S_j with per-token coefficients C = (m @ Wp^T)
// reshaped [N, N] row-major: one fused pass (add_mixed).
std::vector<Tensor> altup_predict(const Config& c, const LayerWeights& w, const std::vector<Tensor>& streams) {
  Tensor m = router_modalities(c, w, streams[static_cast<size_t>(c.altup_active_idx)]);  // [B, T, N]
  Tensor coefs = linear(m, w.prediction_coefs);                                          // [B, T, N*N]
  return add_mixed(streams, streams, coefs);                                             // N x [B, T, D]
}

// AltUp correct: corr_i = pred_i + (m2 @ Wc^T + 1)_i * (activated - pred_active).
std::vector<Tensor> altup_correct(const Config& c, const LayerWeights& w, const std::vector<Tensor>& pred,
                                  const Tensor& activated) {
  Tensor m = router_modalities(c, w, activated);                                      // [B, T, N]
  Tensor scale = add(linear(m, w.correction_coefs), 1.0);                             // [B, T, N]
  Tensor innovation = sub(activated, pred[static_cast<size_t>(c.altup_active_idx)]);  // [B, T, D]
  return add_mixed(pred, {innovation}, scale);                                        // N x [B, T, D]
}

// Attention (transformers' Gemma3nTextAttention): q/k/v norms over head_dim, RoPE, scale 1.0,
// causal with a sliding window on sliding layers; consumers reuse the producer's K/V.
Tensor attention(const Config& c, const LayerWeights& w, int64_t layer, const Tensor& x, const AttentionInputs& in,
                 SharedKV& kv, const models::LoraSet* lora) {
  const int64_t B = x.size(0), T = x.size(1), H = c.num_attention_heads, K = c.num_key_value_heads;
  const int64_t hd = c.head_dim;
  // [B, T, D] -> [B, T, H, hd] -> normed, rotated -> [B, H, T, hd]
  Tensor q = apply_linear(w.q, x, lora).view({B, T, H, hd});
  q = apply_rope(rms_norm(q, w.q_norm, c.rms_norm_eps), in.rope.cos, in.rope.sin).transpose(1, 2);
  if (!c.is_kv_consumer(layer)) {
    Tensor k = apply_linear(w.k, x, lora).view({B, T, K, hd});
    k = apply_rope(rms_norm(k, w.k_norm, c.rms_norm_eps), in.rope.cos, in.rope.sin).transpose(1, 2);
    Tensor v = rms_norm(apply_linear(w.v, x, lora).view({B, T, K, hd}), Tensor(), c.rms_norm_eps).transpose(1, 2);
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
  return apply_linear(w.o, o.transpose(1, 2).reshape({B, T, H * hd}), lora);
}

// Gated MLP with Gaussian top-k sparsity on the gate (shifted, not masked: relu(g - cutoff)).
Tensor mlp(const Config& c, const LayerWeights& w, int64_t layer, const Tensor& x, const models::LoraSet* lora) {
  Tensor g = apply_linear(w.gate, x, lora);  // [B, T, F]
  const double sparsity = c.activation_sparsity[static_cast<size_t>(layer)];
  if (sparsity > 0.0) {
    Tensor cutoff = add(mean(g, -1, true), mul(stddev(g, -1, 0, true), sparsity_std_multiplier(sparsity)));
    g = relu(sub(g, cutoff));
  }
  Tensor u = apply_linear(w.up, x, lora);
  return apply_linear(w.down, gated_gelu(g, u), lora);  // [B, T, D]
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
  std::vector<Tensor> pred = altup_predict(c, w, streams);  // N x [B, T, D]
  const Tensor& a = pred[active];
  Tensor xn = rms_norm(a, w.input_norm, eps);
  // LAuReL: xn + RMSNorm(xn @ Wl^T @ Wr^T)
  Tensor laurel =
      add(xn, rms_norm(apply_linear(w.laurel_right, apply_linear(w.laurel_left, xn, lora), lora), w.laurel_norm, eps));
  Tensor att = rms_norm(attention(c, w, layer, xn, attn_in, kv, lora), w.post_attention_norm, eps);
  Tensor s1 = mul(add(add(a, att), laurel), 1.0 / std::sqrt(2.0));  // (a + att + laurel) / sqrt(2)
  Tensor out = add(s1, rms_norm(mlp(c, w, layer, rms_norm(s1, w.pre_ffn_norm, eps), lora), w.post_ffn_norm, eps));
  std::vector<Tensor> corrected = altup_correct(c, w, pred, out);

  // Per-layer input gate: the corrected active stream, scaled, gates this layer's PLE input.
  Tensor f = corrected[active];
  if (c.altup_correct_scale) f = mul(f, w.correct_output_scale);
  f = gated_gelu(apply_linear(w.ple_gate, f, lora), ple);                             // [B, T, P]
  f = rms_norm(apply_linear(w.ple_projection, f, lora), w.ple_norm, eps);             // [B, T, D]
  for (size_t i = 1; i < corrected.size(); ++i) corrected[i] = add(corrected[i], f);  // transformers: [1:]
  return corrected;
}

}  // namespace vg::gemma3n
