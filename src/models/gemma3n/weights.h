// Gemma 3n text-decoder weights, found by their Hugging Face names (specs/gemma3n.md §2). Linear
// weights are [out, in]. Everything is converted to the compute dtype and placed on the compute
// device at load except the per-layer embedding table (2 billion parameters in E2B), which stays
// as stored on the host and is gathered row by row.
#pragma once

#include <vector>

#include "models/common/linear.h"
#include "models/common/weight_source.h"
#include "models/gemma3n/config.h"

namespace vg::gemma3n {

struct LayerWeights {
  Tensor input_norm, post_attention_norm, pre_ffn_norm, post_ffn_norm;  // [D]
  models::Linear q, k, v, o;                                            // k and v are empty for KV-consumer layers
  Tensor q_norm, k_norm;                                                // [head_dim]
  models::Linear gate, up, down;
  // AltUp
  Tensor correct_output_scale;  // [D]
  Tensor correction_coefs;      // [N, N]
  Tensor prediction_coefs;      // [N*N, N]
  Tensor modality_router;       // [N, D]
  Tensor router_norm;           // [D]
  // LAuReL
  models::Linear laurel_left, laurel_right;  // [R, D], [D, R]
  Tensor laurel_norm;                        // [D]
  // Per-layer input gate
  models::Linear ple_gate, ple_projection;  // [P, D], [D, P]
  Tensor ple_norm;                          // [D]
};

struct Weights {
  Tensor embed_tokens;            // [V, D], also the tied output head
  Tensor embed_tokens_per_layer;  // [Vp, L_checkpoint * P], as stored, on the host
  Tensor ple_kept_layers;         // i64 [L] on the compute device: the table's layers this model uses
                                  // (MatFormer); undefined = all
  models::Linear per_layer_model_projection;              // [L * P, D]
  Tensor per_layer_projection_norm;                       // [P]
  std::vector<models::Linear> altup_projections;          // N-1 x [D, D]
  std::vector<models::Linear> altup_unembed_projections;  // N-1 x [D, D]
  Tensor final_norm;                                      // [D]
  std::vector<LayerWeights> layers;
};

// Loads the weights of `sliced.config` from a checkpoint made for the unsliced model, onto
// `device` (all but the per-layer embedding table, which stays on the host as stored). Checks
// every shape; consumer layers' k/v projections and non-text tensors are ignored.
Weights load_weights(const models::WeightSource& source, const Config& checkpoint_config, const SlicedConfig& sliced,
                     DType compute_dtype, Device device = Device::cpu());

// Parameter counts from the geometry, as the checkpoint stores it (consumer k/v included, the
// tied head counted once). "effective" leaves out the two embedding tables.
struct ParameterCounts {
  int64_t total = 0;
  int64_t effective = 0;
  int64_t embeddings = 0;
  int64_t per_layer_embeddings = 0;
};
ParameterCounts count_parameters(const Config& config);

}  // namespace vg::gemma3n
