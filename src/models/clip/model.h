// The CLIP vision tower (transformers' CLIPVisionModel semantics, specs/vision-encoders.md §B.3):
// a patch-embedding convolution, the CLS token and learned positions, pre_layrnorm, and
// pre-norm encoder layers with bidirectional attention and a quick_gelu MLP. The VLM takes the
// hidden state of the second-to-last layer without the CLS token (LLaVA's select_layer -2,
// select_feature "patch", §B.4), so the last layer and post_layernorm are not run for it.
// Written with the engine's ops, so backward works through it (into the pixels, LoRA adapters,
// or any weight that requires grad).
#pragma once

#include <string>
#include <vector>

#include "models/clip/config.h"
#include "models/clip/weights.h"
#include "models/common/linear.h"

namespace vg::clip {

struct LoadOptions {
  DType dtype = DType::F32;       // compute dtype of the weights
  Device device = Device::cpu();  // where the weights live and the tower computes
};

class Model {
 public:
  // A Hugging Face checkpoint folder (config.json + safetensors): CLIPVisionModel or CLIPModel.
  static Model load(const std::string& path, const LoadOptions& options = {});
  static Model from_source(const Config& config, const models::WeightSource& source, const LoadOptions& options = {});

  const Config& config() const { return config_; }
  Weights& weights() { return weights_; }
  const Weights& weights() const { return weights_; }
  DType dtype() const { return weights_.patch_embedding.dtype(); }
  Device device() const { return weights_.patch_embedding.device(); }

  // Adapters used by every linear layer from now on (nullptr: none), keyed by the weight's
  // checkpoint name (with the checkpoint's prefix, see Weights::prefix). Not owned.
  void set_lora(const models::LoraSet* lora) { lora_ = lora; }

  // Pixels [B, C, S, S] of any floating dtype (converted to the model's, as transformers does)
  // -> CLS + patch embeddings + positions after pre_layrnorm, hidden state 0: [B, N + 1, D].
  Tensor embed(const Tensor& pixels) const;
  // Encoder layer `layer` (0-based): [B, T, D] -> [B, T, D].
  Tensor encoder_layer(int64_t layer, const Tensor& x) const;

  // transformers' hidden_states[index] (output_hidden_states=True): 0 = embed(), i + 1 = the
  // output of layer i, negative indices from the end (-1 = the last layer, without
  // post_layernorm; -2 = LLaVA's default). Runs only the layers needed. [B, N + 1, D]
  Tensor hidden_states(const Tensor& pixels, int64_t index) const;
  // All L + 1 hidden states in one pass.
  std::vector<Tensor> all_hidden_states(const Tensor& pixels) const;
  // The VLM's image features: hidden_states(pixels, layer), without the CLS token when drop_cls
  // (a view). [B, N, D] (ViT-B/16 at 224: [B, 196, 768]), or [B, N + 1, D].
  Tensor features(const Tensor& pixels, int64_t layer = -2, bool drop_cls = true) const;
  // pooler_output: post_layernorm of the last layer's CLS token, [B, D]. Needs post_layernorm
  // in the checkpoint.
  Tensor pooled(const Tensor& pixels) const;

 private:
  Model() = default;
  Tensor run_layers(const Tensor& pixels, int64_t count, std::vector<Tensor>* states) const;

  Config config_;
  Weights weights_;
  const models::LoraSet* lora_ = nullptr;
};

}  // namespace vg::clip
