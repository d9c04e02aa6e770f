// The bidirectional Mamba mixer of the VideoMamba fork of mamba_ssm (bimamba=True,
// specs/vision-encoders.md §A.5): one in_proj gives x and the gate z; a forward branch scans x,
// a backward branch with its own conv1d_b, x_proj_b, dt_proj_b, A_b_log and D_b scans the
// reversed sequence, and the two gated outputs are SUMMED (never averaged) before out_proj.
// With Config::bidirectional false only the forward branch runs (stock mamba_ssm's Mamba).
#pragma once

#include "models/common/linear.h"
#include "models/videomamba/config.h"

namespace vg::videomamba {

// One scan direction. Tensors keep the checkpoint's shapes so that they are the trainable
// parameters themselves.
struct DirectionWeights {
  Tensor conv_weight;      // [E, 1, W] depthwise causal conv1d
  Tensor conv_bias;        // [E]
  models::Linear x_proj;   // [R + 2N, E] -> dt_low | B | C
  models::Linear dt_proj;  // [E, R], no bias here: dt_bias is added inside the scan
  Tensor dt_bias;          // [E]
  Tensor A_log;            // [E, N], A = -exp(A_log)
  Tensor D;                // [E] skip
};

struct MixerWeights {
  models::Linear in_proj;   // [2E, C]: rows [0, E) -> x, [E, 2E) -> z
  models::Linear out_proj;  // [C, E]
  DirectionWeights forward_dir;
  DirectionWeights backward_dir;  // empty when the model runs one direction
};

// Intermediate outputs for tests: each branch's gated scan output, in its own time order.
struct MixerTrace {
  Tensor y_forward;   // [B, E, L]
  Tensor y_backward;  // [B, E, L], position 0 = the last token; undefined when one direction
};

// One direction: silu(causal_conv1d(x)) -> x_proj -> dt_proj -> selective scan gated by silu(z).
// x, z: [B, E, L] (any views) -> [B, E, L].
Tensor mixer_branch(const Config& config, const DirectionWeights& w, const Tensor& x, const Tensor& z,
                    const models::LoraSet* lora = nullptr);

// hidden [B, L, C] (already normed) -> [B, L, C].
Tensor mixer_forward(const Config& config, const MixerWeights& w, const Tensor& hidden,
                     const models::LoraSet* lora = nullptr, MixerTrace* trace = nullptr);

}  // namespace vg::videomamba
