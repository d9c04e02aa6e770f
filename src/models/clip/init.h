// CLIP vision towers created from nothing: the tensors of a CLIPVisionModel with transformers'
// initialisation (CLIPPreTrainedModel._init_weights), a small configuration of the ViT-B/16 token
// geometry for demos, and saving as a checkpoint folder that Model::load (and transformers) reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"
#include "models/clip/config.h"
#include "models/common/checkpoint_writer.h"

namespace vg::clip {

// Every tensor of a CLIPVisionModel under "vision_model." (the layout of hub CLIPModel files and of
// CLIPVisionModel files saved by transformers 4.x; weights.cpp reads it, as it does the unprefixed
// 5.x layout), post_layernorm included, initialised as CLIPPreTrainedModel._init_weights does
// (transformers modeling_clip.py) with CLIPVisionConfig's initializer_range 0.02 and
// initializer_factor 1 (D = hidden_size, L = num_hidden_layers):
//   - embeddings.class_embedding: normal(0, D^-0.5);
//   - embeddings.patch_embedding.weight and embeddings.position_embedding.weight: normal(0, 0.02);
//   - self_attn.{q,k,v}_proj.weight: normal(0, D^-0.5 (2L)^-0.5); out_proj.weight: normal(0, D^-0.5);
//   - mlp.fc1.weight: normal(0, (2D)^-0.5); mlp.fc2.weight: normal(0, D^-0.5 (2L)^-0.5);
//   - every nn.Linear bias zeros; every nn.LayerNorm weight ones and bias zeros.
// Each tensor comes from its own Philox stream keyed by (seed, name) (models/common/weight_init.h).
std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype = DType::F32);

// Writes config.to_json() and the weights (model.safetensors, or shards with an index above
// max_shard_bytes) into `folder`, every file atomically, after checking that `weights` has every
// tensor of the config under "vision_model." with its shape.
void save_checkpoint(const std::string& folder, const Config& config, const std::map<std::string, Tensor>& weights,
                     int64_t max_shard_bytes = models::kDefaultMaxShardBytes);

// The demo's tower: ViT-B/16's token geometry (224 x 224 pixels, patches of 16, 196 patches + CLS)
// at a small width: hidden 64, 4 heads of 16, MLP 256, 2 layers, quick_gelu. 162,048 parameters
// (0.65 MB in f32); a 224 x 224 frame costs about 0.08 GFLOP.
Config small_config();

}  // namespace vg::clip
