// VideoMamba encoder configuration (specs/vision-encoders.md §A.1): the geometry of
// PretrainVideoMamba (OpenGVLab/VideoMamba video_mm, the encoder Mobile-VideoGPT uses) and of
// the video_sm/image_sm classifiers. A config comes from a named preset, from Mobile-VideoGPT's
// videomamba config.json ({"vision_encoder": {...}}), or from the tensor shapes of a checkpoint
// (the official release is a .pth with no config at all).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/json_config.h"
#include "models/common/weight_source.h"

namespace vg::videomamba {

struct Config {
  int64_t embed_dim = 576;  // C
  int64_t depth = 32;
  int64_t d_state = 16;  // N
  int64_t d_conv = 4;    // W
  int64_t expand = 2;    // E = expand * C
  int64_t dt_rank = 36;  // R = ceil(C / 16) ("auto")
  int64_t img_size = 224;
  int64_t patch_size = 16;
  int64_t tubelet = 1;     // kernel_size: frames per patch (Conv3d kernel (tubelet, p, p))
  int64_t num_frames = 8;  // frames the temporal embedding covers (num_frames / tubelet rows)
  int64_t channels = 3;
  double norm_eps = 1e-5;
  // true: the trained model, both scan directions summed (the VideoMamba fork's bimamba). false:
  // the forward direction only, as the EdgeVLM adaptation's stock pip mamba-ssm runs it (§A.0).
  bool bidirectional = true;
  // Where the encoder's tensors live in the checkpoint: "vision_encoder." (UMT release,
  // Mobile-VideoGPT), "model.vision_tower.vision_encoder." (Mobile-VideoGPT HF checkpoints), ""
  // (video_sm/image_sm classifiers). Unset: found from the tensor names at load.
  std::optional<std::string> weight_prefix;

  int64_t d_inner() const { return expand * embed_dim; }               // E
  int64_t grid() const { return img_size / patch_size; }               // patches per side
  int64_t patches_per_frame() const { return grid() * grid(); }        // N_p (196)
  int64_t temporal_positions() const { return num_frames / tubelet; }  // rows of temporal_pos_embedding
  int64_t x_proj_rows() const { return dt_rank + 2 * d_state; }        // R + 2N
  int64_t sequence_length(int64_t frames) const {                      // L = 1 + T' N_p
    return 1 + (frames / tubelet) * patches_per_frame();
  }

  // Throws "[videomamba] ..." naming the first inconsistent field.
  void validate() const;

  // The released sizes (§A.1): videomamba_{tiny,small,middle}; names with or without the
  // "videomamba_" prefix. Everything else is the PretrainVideoMamba default (224 px, 8 frames).
  static Config tiny();
  static Config small();
  static Config middle();
  static Config preset(const std::string& name);

  // Mobile-VideoGPT's videomamba config.json: the fields nested in "vision_encoder" (or at the
  // top level): name (a preset), img_size, patch_size, depth, embed_dim, ssm_cfg (d_state,
  // d_conv, expand, dt_rank), norm_epsilon, rms_norm, bimamba, kernel_size, num_frames.
  static Config from_json(const io::JsonConfig& json);
  static Config load(const std::string& path);

  // The geometry read from tensor shapes under `prefix` (found from the names when not given):
  // embed_dim, depth, the SSM sizes, patch and image size, tubelet and frame count, and
  // bidirectional (whether the *_b tensors are present).
  static Config infer(const models::WeightSource& source, const std::optional<std::string>& prefix = std::nullopt);
};

// The prefix under which `source` holds a VideoMamba encoder: the part before
// "patch_embed.proj.weight" of the name that also has cls_token and pos_embed next to it.
std::string detect_prefix(const models::WeightSource& source);

// Parameters of the encoder (both directions when bidirectional), as the checkpoint stores them.
int64_t count_parameters(const Config& config);

}  // namespace vg::videomamba
