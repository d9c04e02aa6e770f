#include "support/model_fixtures.h"

#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "support/seeded_weights.h"

namespace vg::testing {
namespace {

bool ends_with(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// make_videomamba_goldens.py's choice of the existing seeded kinds, by name.
std::string videomamba_kind(const std::string& name) {
  if (ends_with(name, "cls_token") || ends_with(name, "pos_embed") || ends_with(name, "temporal_pos_embedding")) {
    return "embedding";
  }
  if (name.find(".dt_proj") != std::string::npos && ends_with(name, ".bias")) return "embedding";
  if (ends_with(name, ".bias")) return "scale";
  if (ends_with(name, "norm.weight") || ends_with(name, "mixer.D") || ends_with(name, "mixer.D_b")) return "norm";
  return "matrix";
}

}  // namespace

std::map<std::string, Tensor> seeded_clip_weights(const clip::Config& c, uint64_t seed) {
  std::map<std::string, Tensor> weights;
  auto add = [&](const std::string& name, const Shape& shape) {
    weights[name] = seeded_tensor(name, shape, seeded_kind(name, shape), seed);
  };
  const int64_t D = c.hidden_size, F = c.intermediate_size, P = c.patch_size;
  add("embeddings.class_embedding", {D});
  add("embeddings.patch_embedding.weight", {D, c.num_channels, P, P});
  add("embeddings.position_embedding.weight", {c.num_positions(), D});
  for (const char* norm : {"pre_layrnorm", "post_layernorm"}) {
    add(std::string(norm) + ".weight", {D});
    add(std::string(norm) + ".bias", {D});
  }
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    for (const char* n : {"layer_norm1", "layer_norm2"}) {
      add(p + n + ".weight", {D});
      add(p + n + ".bias", {D});
    }
    for (const char* n : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"}) {
      add(p + n + ".weight", {D, D});
      add(p + n + ".bias", {D});
    }
    add(p + "mlp.fc1.weight", {F, D});
    add(p + "mlp.fc1.bias", {F});
    add(p + "mlp.fc2.weight", {D, F});
    add(p + "mlp.fc2.bias", {D});
  }
  return weights;
}

std::map<std::string, Tensor> seeded_videomamba_weights(const videomamba::Config& c, uint64_t seed,
                                                        const std::string& prefix) {
  const int64_t C = c.embed_dim, E = c.d_inner(), N = c.d_state, R = c.dt_rank, W = c.d_conv;
  const int64_t P = c.patch_size, T = c.tubelet;
  std::map<std::string, Tensor> weights;
  auto add = [&](const std::string& rest, const Shape& shape) {
    const std::string name = prefix + rest;
    weights[name] = seeded_tensor(name, shape, videomamba_kind(name), seed);
  };
  add("cls_token", {1, 1, C});
  add("pos_embed", {1, c.patches_per_frame() + 1, C});
  add("temporal_pos_embedding", {1, c.temporal_positions(), C});
  // Drawn as a [C, fan_in] matrix: the kind's fan-in is the last dim.
  const std::string patch = prefix + "patch_embed.proj.weight";
  weights[patch] = seeded_tensor(patch, {C, c.channels * T * P * P}, "matrix", seed).reshape({C, c.channels, T, P, P});
  add("patch_embed.proj.bias", {C});
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string l = "layers." + std::to_string(i) + ".", m = l + "mixer.";
    add(l + "norm.weight", {C});
    add(m + "in_proj.weight", {2 * E, C});
    add(m + "out_proj.weight", {C, E});
    for (const std::string s : {"", "_b"}) {
      add(m + "conv1d" + s + ".weight", {E, 1, W});
      add(m + "conv1d" + s + ".bias", {E});
      add(m + "x_proj" + s + ".weight", {R + 2 * N, E});
      add(m + "dt_proj" + s + ".weight", {E, R});
      add(m + "dt_proj" + s + ".bias", {E});
      add(m + (s.empty() ? "A_log" : "A_b_log"), {E, N});
      add(m + "D" + s, {E});
    }
  }
  add("norm.weight", {C});
  return weights;
}

std::map<std::string, Tensor> seeded_etp_weights(const projector::EtpConfig& c, uint64_t seed,
                                                 const std::string& prefix) {
  const int64_t H = c.out_features;
  std::map<std::string, Tensor> weights;
  auto add = [&](const std::string& rest, const Shape& shape) {
    const std::string name = prefix + rest;
    if (shape.rank() == 1) {
      weights[name] = seeded_tensor(name, shape, "scale", seed);
    } else {
      weights[name] = seeded_tensor(name, {shape[0], numel(shape) / shape[0]}, "matrix", seed).reshape(shape);
    }
  };
  add("mlp.mlp.0.weight", {H, c.in_features});
  add("mlp.mlp.0.bias", {H});
  add("mlp.mlp.2.weight", {H, H});
  add("mlp.mlp.2.bias", {H});
  add("peg.peg.0.weight", {H, 1, 3, 3});
  add("peg.peg.0.bias", {H});
  return weights;
}

clip::Config small_clip_config() {
  clip::Config c;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.image_size = 224;
  c.patch_size = 16;
  return c;
}

videomamba::Config small_videomamba_config() {
  videomamba::Config c;
  c.embed_dim = 32;
  c.depth = 2;
  c.d_state = 4;
  c.dt_rank = 2;
  c.img_size = 224;
  c.patch_size = 16;
  c.num_frames = 8;
  return c;
}

VisionCheckpoints write_small_vision_checkpoints(const std::string& folder, uint64_t seed, int64_t lm_width) {
  namespace fs = std::filesystem;
  VisionCheckpoints out{(fs::path(folder) / "clip").string(), (fs::path(folder) / "videomamba.safetensors").string(),
                        (fs::path(folder) / "image_projector.safetensors").string(),
                        (fs::path(folder) / "video_projector.safetensors").string()};
  const clip::Config cc = small_clip_config();
  fs::create_directories(out.clip_folder);
  std::ofstream(fs::path(out.clip_folder) / "config.json")
      << "{\"model_type\": \"clip_vision_model\", \"hidden_size\": " << cc.hidden_size
      << ", \"intermediate_size\": " << cc.intermediate_size << ", \"num_hidden_layers\": " << cc.num_hidden_layers
      << ", \"num_attention_heads\": " << cc.num_attention_heads << ", \"image_size\": " << cc.image_size
      << ", \"patch_size\": " << cc.patch_size << ", \"hidden_act\": \"quick_gelu\"}\n";
  std::map<std::string, Tensor> clip_weights;
  for (auto& [name, t] : seeded_clip_weights(cc, seed)) clip_weights["vision_model." + name] = t;
  io::save_safetensors((fs::path(out.clip_folder) / "model.safetensors").string(), clip_weights);
  const videomamba::Config vc = small_videomamba_config();
  io::save_safetensors(out.videomamba, seeded_videomamba_weights(vc, seed, "vision_encoder."));
  io::save_safetensors(out.image_projector,
                       seeded_etp_weights(projector::EtpConfig::image(cc.hidden_size, lm_width), seed, ""));
  io::save_safetensors(out.video_projector,
                       seeded_etp_weights(projector::EtpConfig::video(vc.embed_dim, lm_width), seed, ""));
  return out;
}

}  // namespace vg::testing
