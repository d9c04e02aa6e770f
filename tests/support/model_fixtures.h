// Weights for encoder models of any geometry, generated from a seed by name exactly as
// tools/reference/make_clip_goldens.py and make_videomamba_goldens.py generate them (so tests of
// big geometries need no weight files, and small models of the real token geometry are cheap).
#pragma once

#include <map>
#include <string>

#include "models/clip/config.h"
#include "models/projector/etp.h"
#include "models/videomamba/config.h"

namespace vg::testing {

// transformers 5.x CLIPVisionModel parameters (unprefixed names), seeded_kind by name.
std::map<std::string, Tensor> seeded_clip_weights(const clip::Config& config, uint64_t seed);

// VideoMamba parameters under `prefix` (both directions), with the kinds of make_videomamba_goldens.py.
std::map<std::string, Tensor> seeded_videomamba_weights(const videomamba::Config& config, uint64_t seed,
                                                        const std::string& prefix = "vision_encoder.");

// Small encoders with the real token geometry (224 px frames, 16 px patches, 196 tokens a frame),
// so every reshape of the vision pipeline runs at the cost of a tiny model:
clip::Config small_clip_config();              // hidden 32, MLP 64, 2 layers, 2 heads
videomamba::Config small_videomamba_config();  // embed 32, depth 2, d_state 4, dt_rank 2, 8 frames

// The small encoders and their projectors (to width lm_width), seeded as above, written as a user
// would have them: a CLIP folder (config.json + model.safetensors under "vision_model."), a
// VideoMamba safetensors file (under "vision_encoder."), and one file per projector.
struct VisionCheckpoints {
  std::string clip_folder, videomamba, image_projector, video_projector;
};
VisionCheckpoints write_small_vision_checkpoints(const std::string& folder, uint64_t seed, int64_t lm_width);

// ETP projector parameters under `prefix` as make_visual_goldens.py draws them: vectors with the
// 'scale' kind, matrices (the depthwise kernel as the [H, 9] matrix it is) with the 'matrix' kind.
std::map<std::string, Tensor> seeded_etp_weights(const projector::EtpConfig& config, uint64_t seed,
                                                 const std::string& prefix);

}  // namespace vg::testing
