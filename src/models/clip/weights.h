// CLIP vision-tower weights, found by their Hugging Face names (specs/vision-encoders.md §B.5).
// A checkpoint stores them under "vision_model." (hub CLIPModel files, CLIPVisionModel files of
// transformers 4.x) or without a prefix (CLIPVisionModel saved by transformers 5.x); the loader
// detects which. text_model.*, the projections, logit_scale and position_ids are ignored.
// Linear weights are [out, in] with biases.
#pragma once

#include <string>
#include <vector>

#include "models/clip/config.h"
#include "models/common/linear.h"
#include "models/common/weight_source.h"

namespace vg::clip {

struct Norm {
  Tensor weight, bias;  // [D], [D]
  bool defined() const { return weight.defined(); }
};

struct LayerWeights {
  Norm layer_norm1, layer_norm2;
  models::Linear q, k, v, out;  // [D, D] each, with bias
  models::Linear fc1, fc2;      // [F, D], [D, F], with bias
};

struct Weights {
  std::string prefix;         // "vision_model." or "", as the checkpoint stores the tower
  Tensor class_embedding;     // [D]
  Tensor patch_embedding;     // [D, C, P, P], no bias
  Tensor position_embedding;  // [N + 1, D]
  Norm pre_layrnorm;          // (sic) the norm before the encoder
  Norm post_layernorm;        // for the pooled output only; undefined when the checkpoint has none
  std::vector<LayerWeights> layers;
};

// "vision_model." or "", whichever holds the patch embedding; throws when neither does.
std::string detect_prefix(const models::WeightSource& source);

// Every tensor of the tower, shape-checked, converted to compute_dtype, on `device`.
Weights load_weights(const models::WeightSource& source, const Config& config, DType compute_dtype,
                     Device device = Device::cpu());

// Parameters of the tower as CLIPVisionModel has them (post_layernorm included).
int64_t count_parameters(const Config& config);

}  // namespace vg::clip
