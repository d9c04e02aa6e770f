// The whole video-language model (design.md §4): Gemma 3n, its tokenizer, CLIP, VideoMamba, the
// two ETP projectors and an optional LoRA adapter, loaded from one VlmConfig. It builds the chat
// prompt both training and inference use (system prompt, then the clip, then the question), turns
// clips into visual tokens, and answers questions about videos.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/clip/model.h"
#include "models/common/linear.h"
#include "models/gemma3n/model.h"
#include "models/projector/etp.h"
#include "models/videomamba/model.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "vlm/generation.h"
#include "vlm/splice.h"
#include "vlm/visual_encoder.h"
#include "vlm/vlm_config.h"

namespace vg {

struct VlmLoadOptions {
  // Training may start without projector files: missing ones are initialised (PyTorch's
  // default init, from init_seed). Inference needs both.
  bool allow_fresh_projectors = false;
  uint64_t init_seed = 0;
  // Training keeps the projectors as f32 master copies that AdamW updates (design.md §2),
  // whatever the compute dtype; otherwise they compute in it like every other part.
  bool f32_projectors = false;
};

class VideoLanguageModel {
 public:
  // Every part goes to config.compute_device() in config.compute_dtype() (the per-layer
  // embedding table of Gemma 3n stays on the host, as stored). Throws vg::Error naming the part
  // that failed to load (file, shape, width mismatch), or the device that cannot be used.
  static std::unique_ptr<VideoLanguageModel> load(const VlmConfig& config, const VlmLoadOptions& options = {});

  const VlmConfig& config() const { return config_; }
  Device device() const { return lm_->device(); }
  DType dtype() const { return lm_->dtype(); }
  gemma3n::Model& language_model() { return *lm_; }
  const gemma3n::Model& language_model() const { return *lm_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const VisualEncoder& encoder() const { return *encoder_; }
  projector::Etp& image_projector() { return *image_projector_; }
  projector::Etp& video_projector() { return *video_projector_; }
  const clip::Model& clip() const { return *clip_; }
  const videomamba::Model& videomamba() const { return *videomamba_; }
  // The LoRA adapters the language model uses (empty without an adapter). Training adds to it.
  models::LoraSet& lora() { return *lora_; }

  // The chat prompt: [system prompt] + the clip's media token + "\n" + question, then the answer as
  // the model's turn when given, else the generation prompt. with_media false: text only.
  text::ChatPrompt chat_prompt(const std::string& question, const std::optional<std::string>& answer,
                               bool with_media = true) const;

  // The spliced model input for one clip's visual tokens (already projected) and a conversation.
  SplicedSequence sequence(const Tensor& visual_tokens, const std::string& question,
                           const std::optional<std::string>& answer, const SpliceOptions& options = {}) const;

  // Answers `question` (default: the config's) about each video, in one batch. on_token streams.
  std::vector<GenerationResult> answer(const std::vector<std::string>& videos, const std::string& question,
                                       const GenerationOptions& options, const TokenCallback& on_token = {}) const;
  // The same from visual tokens already computed ([Nv, H] each).
  std::vector<GenerationResult> answer_tokens(const std::vector<Tensor>& visual_tokens, const std::string& question,
                                              const GenerationOptions& options, const TokenCallback& on_token = {}) const;

  std::string decode(const std::vector<int32_t>& ids) const;

 private:
  VideoLanguageModel() = default;
  VlmConfig config_;
  std::unique_ptr<gemma3n::Model> lm_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<clip::Model> clip_;
  std::unique_ptr<videomamba::Model> videomamba_;
  std::unique_ptr<projector::Etp> image_projector_, video_projector_;
  std::unique_ptr<models::LoraSet> lora_;
  std::unique_ptr<VisualEncoder> encoder_;
  // Kept between answers: it reuses its KV cache and recorded decode step (vlm/decoder.h).
  mutable std::unique_ptr<Decoder> decoder_;
};

}  // namespace vg
