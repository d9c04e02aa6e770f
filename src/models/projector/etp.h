// The ETP ("efficient token projection") projector of Mobile-VideoGPT
// (specs/mobile-videogpt-reference.md §1.7): encoder features [B, 196, in] -> an MLP to the LM
// width -> the 196 tokens viewed as a 14x14 grid -> adaptive average pooling (12x12 for images,
// 7x7 for video) -> plus a depthwise 3x3 convolution of itself (the "PEG") -> [B, s*s, out].
// Parameter names follow the reference module: mlp.mlp.{0,2}.{weight,bias}, peg.peg.0.{weight,bias}.
#pragma once

#include <map>
#include <string>

#include "core/random.h"
#include "models/common/linear.h"
#include "models/common/weight_source.h"

namespace vg::projector {

struct EtpConfig {
  int64_t in_features = 768;    // 768 for CLIP features, 576 for VideoMamba-M
  int64_t out_features = 2048;  // the LM width (Gemma 3n E2B)
  int64_t grid = 14;            // input tokens form grid x grid
  int64_t pooled = 12;          // output tokens form pooled x pooled (12 images, 7 video)

  static EtpConfig image(int64_t in_features, int64_t lm_width) { return {in_features, lm_width, 14, 12}; }
  static EtpConfig video(int64_t in_features, int64_t lm_width) { return {in_features, lm_width, 14, 7}; }
  int64_t output_tokens() const { return pooled * pooled; }
  int64_t parameter_count() const;
};

class Etp {
 public:
  // Weights `prefix` + "mlp.mlp.0.weight" etc. from a checkpoint (shapes checked).
  static Etp load(const models::WeightSource& source, const std::string& prefix, const EtpConfig& config,
                  DType dtype = DType::F32);
  // A projector saved on its own (safetensors, or the reference's mm_projector.bin): the tensors
  // without a prefix or under one prefix ("mm_projector.", "model.image_mm_projector.", ...);
  // the widths come from the shapes. `pooled` is 12 (image) or 7 (video).
  static Etp load_file(const std::string& path, int64_t pooled, DType dtype = DType::F32);
  // A fresh projector with PyTorch's default initialisation of nn.Linear and nn.Conv2d
  // (uniform in +-1/sqrt(fan_in)), drawn from `gen`.
  static Etp initialize(const EtpConfig& config, Generator& gen, DType dtype = DType::F32);

  const EtpConfig& config() const { return config_; }
  // Moves the weights to `device` (before any of them is made trainable). Returns *this.
  Etp& to(Device device);
  Device device() const { return fc1_.weight.device(); }
  DType dtype() const { return fc1_.weight.dtype(); }
  // x [B, grid*grid, in] -> [B, pooled*pooled, out]
  Tensor forward(const Tensor& x, const models::LoraSet* lora = nullptr) const;

  // The parameters by their checkpoint names (without prefix), e.g. for an optimizer or saving.
  std::map<std::string, Tensor*> parameters();
  std::map<std::string, Tensor> state_dict() const;

 private:
  EtpConfig config_;
  models::Linear fc1_, fc2_;
  Tensor peg_weight_;  // [out, 1, 3, 3]
  Tensor peg_bias_;    // [out]
};

}  // namespace vg::projector
