// VideoMamba encoder weights, found by their checkpoint names (specs/vision-encoders.md §A.7)
// under the layout's prefix: "vision_encoder." (UMT release, Mobile-VideoGPT),
// "model.vision_tower.vision_encoder." (Mobile-VideoGPT HF checkpoints) or none (video_sm and
// image_sm classifiers: final norm "norm_f", a 2D patch weight [C, 3, p, p] inflated to
// [C, 3, 1, p, p], head.* ignored). Tensors nobody asks for (pool_norm, clip_decoder, the text
// side, the *_b tensors of a one-direction model) are ignored.
#pragma once

#include <vector>

#include "models/common/weight_source.h"
#include "models/videomamba/config.h"
#include "models/videomamba/mixer.h"

namespace vg::videomamba {

struct LayerWeights {
  Tensor norm;  // [C] RMSNorm weight (no bias)
  MixerWeights mixer;
};

struct Weights {
  Tensor patch_weight;        // [C, 3, k, p, p] Conv3d
  Tensor patch_bias;          // [C]
  Tensor cls_token;           // [1, 1, C]
  Tensor pos_embed;           // [1, 1 + N_p, C]; row 0 belongs to cls
  Tensor temporal_pos_embed;  // [1, num_frames / k, C]
  std::vector<LayerWeights> layers;
  Tensor final_norm;  // [C]

  // Every trainable tensor (named by its checkpoint name, Tensor::name()).
  std::vector<Tensor*> parameters();
};

// Loads `config`'s weights from `source` under config.weight_prefix (detected when unset).
// Checks every shape. A temporal embedding of another length than config.num_frames / k is
// interpolated linearly (align_corners=False), as upstream's load_state_dict does. Every tensor
// ends up on `device`.
Weights load_weights(const models::WeightSource& source, const Config& config, DType compute_dtype,
                     Device device = Device::cpu());

}  // namespace vg::videomamba
