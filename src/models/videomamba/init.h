// VideoMamba encoders created from nothing: the tensors of PretrainVideoMamba (OpenGVLab
// VideoMamba, video_mm/models/backbones/videomamba/videomamba.py, with the VideoMamba fork of
// mamba_ssm's Mamba) initialised as its constructor leaves them, a small configuration of the
// real token geometry for demos, and saving as the safetensors file Model::load reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"
#include "models/videomamba/config.h"

namespace vg::videomamba {

struct InitOptions {
  // PretrainVideoMamba applies segm_init_weights to the whole model after the Mamba mixers were
  // built, so every nn.Linear, dt_proj included, ends as trunc_normal(0.02) with a zero bias: the
  // mixer's own dt initialisation does not survive in the reference model. true restores mamba_ssm's
  // Mamba.__init__ for dt_proj and dt_proj_b alike (the fork does it for dt_proj only): weight
  // uniform in +-dt_rank^-0.5 * dt_scale, bias softplus^-1(dt) with dt log-uniform in
  // [dt_min, dt_max] floored at dt_init_floor, so that softplus(bias) starts in [dt_min, dt_max].
  bool mamba_dt_init = false;
  double dt_min = 0.001, dt_max = 0.1, dt_scale = 1.0, dt_init_floor = 1e-4;
};

// Every tensor weights.cpp reads, under config.weight_prefix ("vision_encoder." when unset, the
// layout of the release and of Mobile-VideoGPT), both scan directions when config.bidirectional,
// with the values PretrainVideoMamba(...) starts from (C = embed_dim, E = d_inner, W = d_conv):
//   - patch_embed.proj (Conv3d) weight and bias: PyTorch's default, uniform in +-1/sqrt(3 k p p)
//     (neither segm_init_weights nor _init_weights touches convolutions);
//   - cls_token and temporal_pos_embedding: zeros (created with torch.zeros, never re-initialised);
//   - pos_embed: trunc_normal_(std=.02) (timm's, bounds +-2 absolute: 100 std, a plain normal);
//   - layers.i.norm.weight and norm.weight (mamba_ssm RMSNorm): ones;
//   - mixer in_proj, x_proj(_b) and dt_proj(_b) weights: trunc_normal_(std=.02) (segm_init_weights
//     on every nn.Linear); dt_proj(_b) biases: zeros (see InitOptions::mamba_dt_init);
//   - mixer out_proj.weight: kaiming_uniform_(a=sqrt(5)) / sqrt(depth), i.e. uniform in
//     +-1/sqrt(E depth) (_init_weights' rescale_prenorm_residual, n_residuals_per_layer 1);
//   - conv1d(_b) weight and bias: PyTorch's default for the depthwise Conv1d, uniform in +-1/sqrt(W);
//   - A_log and A_b_log: log(1..d_state) in every row (S4D real); D and D_b: ones.
// Each tensor comes from its own Philox stream keyed by (seed, name) (models/common/weight_init.h).
std::map<std::string, Tensor> initial_weights(const Config& config, uint64_t seed, DType dtype = DType::F32,
                                              const InitOptions& options = {});

// Writes the weights as one safetensors file at `path` (metadata {"format": "pt"}), atomically,
// after checking that they are every tensor `config` needs under its prefix, with its shape.
// Model::load(path) reads the geometry back from the shapes.
void save_checkpoint(const std::string& path, const Config& config, const std::map<std::string, Tensor>& weights);

// The demo's encoder: the release's token geometry (224 x 224 frames, patches of 16, 8 frames,
// tubelet 1, 1 + 8 x 196 tokens) at a small width: embed 64, depth 2, d_state 16, d_conv 4,
// expand 2, dt_rank 4, both directions. 144,000 parameters (0.58 MB in f32).
Config small_config();

}  // namespace vg::videomamba
