// CLIP vision-tower configuration (transformers' CLIPVisionConfig, specs/vision-encoders.md
// §B.1), read from a Hugging Face config.json: either a CLIPVisionModel config (model_type
// "clip_vision_model") or a full CLIPModel config ("clip", the vision part in "vision_config").
// Absent keys take CLIPVisionConfig's defaults, which is what openai/clip-vit-base-patch16 relies
// on: its config sets little more than patch_size 16.
#pragma once

#include <cstdint>
#include <string>

#include "io/json_config.h"

namespace vg::clip {

enum class Activation { QuickGelu, Gelu };  // x * sigmoid(1.702 x); exact (erf) GELU

struct Config {
  int64_t hidden_size = 768;         // D
  int64_t intermediate_size = 3072;  // F
  int64_t num_hidden_layers = 12;    // L
  int64_t num_attention_heads = 12;  // H
  int64_t num_channels = 3;          // C
  int64_t image_size = 224;          // S
  int64_t patch_size = 32;           // P (CLIPVisionConfig's default; ViT-B/16 sets 16)
  Activation hidden_act = Activation::QuickGelu;
  double layer_norm_eps = 1e-5;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t grid_size() const { return image_size / patch_size; }        // patches per side
  int64_t num_patches() const { return grid_size() * grid_size(); }    // N
  int64_t num_positions() const { return num_patches() + 1; }          // N + 1 (the CLS token)
  int64_t num_hidden_states() const { return num_hidden_layers + 1; }  // embeddings + one per layer

  // transformers' hidden_states index (negative counts from the end) -> 0..L; throws when out of range.
  int64_t resolve_hidden_state(int64_t index) const;

  // Throws "[clip] ..." naming the first inconsistent field.
  void validate() const;

  // From a config.json object (a CLIPModel config or the vision config itself).
  static Config from_json(const io::JsonConfig& json);
  // From a checkpoint folder (its config.json) or a config.json path.
  static Config load(const std::string& path);

  // The config.json of a CLIPVisionModel checkpoint (model_type clip_vision_model): every field
  // from_json reads under transformers' names, so from_json(to_json()) gives this config back.
  std::string to_json() const;
};

}  // namespace vg::clip
