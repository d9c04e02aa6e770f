// The VideoMamba video encoder (PretrainVideoMamba of OpenGVLab/VideoMamba video_mm, as
// Mobile-VideoGPT runs it; specs/vision-encoders.md Part A): a Conv3d patch embedding, cls
// token and spatial plus temporal position embeddings in spatial-first order, `depth`
// pre-norm blocks of RMSNorm + bidirectional Mamba mixer on an f32 residual stream, and a final
// RMSNorm. Written with the engine's ops, so backward reaches every weight (training stage 1
// fine-tunes the encoder).
//
// Input layout: video [B, T, 3, H, W] in the compute dtype, normalised pixels, the layout the
// VLM stacks frames in (the encoder permutes to Conv3d's [B, 3, T, H, W] itself). H = W =
// img_size. T == 1 is image mode (no temporal embedding, L = 197); otherwise T must be a multiple
// of the tubelet k with T / k <= num_frames / k, and frame t' gets temporal row t'.
#pragma once

#include <string>
#include <vector>

#include "models/common/linear.h"
#include "models/common/weight_source.h"
#include "models/videomamba/config.h"
#include "models/videomamba/weights.h"

namespace vg::videomamba {

struct LoadOptions {
  DType dtype = DType::F32;        // compute dtype (f64 for tests)
  Device device = Device::cpu();  // where the weights live and the encoder computes
  bool bidirectional = true;  // false: forward direction only, the *_b tensors are not needed (§A.0)
  int64_t num_frames = 0;     // >0: interpolate the temporal embedding to this many frames (upstream's
                              // load_state_dict does so when num_frames != ckpt_num_frame)
};

struct ForwardArgs {
  Tensor video;                    // [B, T, 3, H, W]
  bool checkpoint_layers = false;  // gradient checkpointing of each block (training)
  // When set, receives the residual stream after each block (depth x [B, L, C]), for tests.
  std::vector<Tensor>* layer_residuals = nullptr;
};

class Model {
 public:
  // A .pth (the official release, torch.save) or a safetensors file or folder (anything
  // io::Checkpoint opens); the geometry comes from the tensor shapes (Config::infer), as a .pth
  // release carries no config.
  static Model load(const std::string& path, const LoadOptions& options = {});
  // Tensors named as `config` (prefix detected when config.weight_prefix is unset) describe them.
  static Model from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options = {});
  // The geometry from the tensor shapes, then from_source (options.bidirectional applies).
  static Model from_source(const models::WeightSource& source, const LoadOptions& options = {});

  const Config& config() const { return config_; }
  Weights& weights() { return weights_; }
  const Weights& weights() const { return weights_; }
  DType dtype() const { return weights_.final_norm.dtype(); }
  Device device() const { return weights_.final_norm.device(); }

  // Adapters used by every linear layer from now on (nullptr: none). Not owned.
  void set_lora(const models::LoraSet* lora) { lora_ = lora; }

  // Patch embedding + cls + position embeddings: [B, T, 3, H, W] -> tokens [B, L, C],
  // L = 1 + (T / k) * N_p, index 1 + t * N_p + n for patch n (row-major) of frame t.
  Tensor embed(const Tensor& video) const;
  // x_vis: the final-normed sequence [B, L, C] (cls at position 0), §A.6.
  Tensor forward(const ForwardArgs& args) const;
  Tensor forward(const Tensor& video) const;
  // What the VLM takes: x_vis without cls, one row per frame: [B * T / k, N_p, C].
  Tensor features(const Tensor& video) const;
  // The same from an x_vis already computed: [B, L, C] -> [B * T', N_p, C].
  Tensor features_of(const Tensor& x_vis) const;

 private:
  Model() = default;
  void check_video(const Tensor& video) const;
  Config config_;
  Weights weights_;
  const models::LoraSet* lora_ = nullptr;
};

}  // namespace vg::videomamba
