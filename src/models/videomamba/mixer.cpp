#include "models/videomamba/mixer.h"

#include "ops/ops.h"

namespace vg::videomamba {

using models::apply_linear;

Tensor mixer_branch(const Config& c, const DirectionWeights& w, const Tensor& x, const Tensor& z,
                    const models::LoraSet* lora) {
  const int64_t E = c.d_inner(), R = c.dt_rank, N = c.d_state;
  // causal_conv1d_fn(x, conv1d.weight squeezed, conv1d.bias, activation="silu")
  Tensor u = causal_conv1d(x, w.conv_weight.reshape({E, c.d_conv}), w.conv_bias, /*silu=*/true);  // [B, E, L]
  Tensor x_dbl = apply_linear(w.x_proj, u.transpose(1, 2), lora);                                 // [B, L, R + 2N]
  Tensor dt_low = x_dbl.slice(2, 0, R);                                                           // [B, L, R]
  Tensor B = x_dbl.slice(2, R, R + N).transpose(1, 2);                   // [B, N, L]: one group for all channels
  Tensor C = x_dbl.slice(2, R + N, R + 2 * N).transpose(1, 2);           // [B, N, L]
  Tensor delta = apply_linear(w.dt_proj, dt_low, lora).transpose(1, 2);  // [B, E, L], bias not yet added
  Tensor A = neg(exp(w.A_log));                                          // [E, N]
  // y = scan(u, softplus(delta + dt_bias), A, B, C, D) * silu(z)
  return selective_scan(u, delta, A, B, C, w.D, z, w.dt_bias, /*delta_softplus=*/true);  // [B, E, L]
}

Tensor mixer_forward(const Config& c, const MixerWeights& w, const Tensor& hidden, const models::LoraSet* lora,
                     MixerTrace* trace) {
  const int64_t E = c.d_inner();
  Tensor xz = apply_linear(w.in_proj, hidden, lora).transpose(1, 2);  // [B, 2E, L]
  Tensor x = xz.slice(1, 0, E);                                       // [B, E, L]
  Tensor z = xz.slice(1, E, 2 * E);                                   // [B, E, L]
  Tensor y = mixer_branch(c, w.forward_dir, x, z, lora);              // [B, E, L]
  if (trace != nullptr) trace->y_forward = y;
  if (c.bidirectional) {
    // The backward branch sees x and z reversed, so flipping its output back re-aligns the
    // gates: y_f + flip(y_b) = (s_f + flip(s_b)) * silu(z). Summed, not averaged.
    Tensor y_b = mixer_branch(c, w.backward_dir, flip(x, {2}), flip(z, {2}), lora);  // [B, E, L] reversed
    if (trace != nullptr) trace->y_backward = y_b;
    y = add(y, flip(y_b, {2}));  // [B, E, L]
  }
  return apply_linear(w.out_proj, y.transpose(1, 2), lora);  // [B, L, C]
}

}  // namespace vg::videomamba
