#include "vlm/video_language_model.h"

#include <filesystem>

#include "core/log.h"
#include "ops/ops.h"
#include "train/peft_adapter.h"
#include "vlm/device_choice.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

std::string tokenizer_path(const VlmConfig& c) {
  if (!c.tokenizer.empty()) return c.tokenizer;
  const fs::path in_model = fs::path(c.language_model) / "tokenizer.json";
  std::error_code ec;
  VG_CHECK(fs::is_regular_file(in_model, ec), "vlm", c.source.empty() ? "the model config" : c.source,
           ": no \"tokenizer\" given and ", in_model.string(), " does not exist");
  return in_model.string();
}

// Read (or drawn) on the host in f32 and converted there, then moved: a fresh projector is the
// same on every device.
std::unique_ptr<projector::Etp> projector_from(const std::string& path, int64_t pooled, int64_t in, int64_t lm_width,
                                               const VlmLoadOptions& options, uint64_t salt, const char* which,
                                               DType dtype, Device device) {
  std::unique_ptr<projector::Etp> p;
  if (!path.empty()) {
    p = std::make_unique<projector::Etp>(projector::Etp::load_file(path, pooled, dtype));
    VG_CHECK(p->config().in_features == in && p->config().out_features == lm_width, "vlm", path, ": the ", which,
             " projector maps ", p->config().in_features, " -> ", p->config().out_features, " features, but the model needs ",
             in, " -> ", lm_width);
  } else {
    VG_CHECK(options.allow_fresh_projectors, "vlm", "the model config names no ", which,
             " projector (\"", which, "_projector\"); only training can start without one");
    Generator gen(options.init_seed ^ salt);
    p = std::make_unique<projector::Etp>(projector::Etp::initialize(projector::EtpConfig{in, lm_width, 14, pooled}, gen, dtype));
  }
  p->to(device);
  return p;
}

}  // namespace

std::unique_ptr<VideoLanguageModel> VideoLanguageModel::load(const VlmConfig& config, const VlmLoadOptions& options) {
  std::unique_ptr<VideoLanguageModel> m(new VideoLanguageModel());
  m->config_ = config;
  const Device device = config.compute_device();
  const DType dtype = config.compute_dtype();
  require_device(device);  // before any weight is read
  gemma3n::LoadOptions lm_options;
  lm_options.dtype = dtype;
  lm_options.device = device;
  m->lm_ = std::make_unique<gemma3n::Model>(gemma3n::Model::load(config.language_model, lm_options));
  m->tokenizer_ = std::make_unique<text::Tokenizer>(text::Tokenizer::load(tokenizer_path(config)));
  VG_CHECK(m->tokenizer_->vocab_size() <= m->lm_->config().vocab_size, "vlm", "the tokenizer has ids up to ",
           m->tokenizer_->vocab_size() - 1, " but the language model's vocabulary has ", m->lm_->config().vocab_size,
           " entries: they do not belong together");
  VG_CHECK(m->tokenizer_->token_to_id(text::ChatTemplateOptions().media_token) >= 0, "vlm",
           "the tokenizer has no ", text::ChatTemplateOptions().media_token, " token to mark the clip with");

  clip::LoadOptions clip_options;
  clip_options.dtype = dtype;
  clip_options.device = device;
  m->clip_ = std::make_unique<clip::Model>(clip::Model::load(config.clip, clip_options));
  videomamba::LoadOptions vm_options;
  vm_options.dtype = dtype;
  vm_options.device = device;
  vm_options.bidirectional = config.videomamba_bidirectional;
  m->videomamba_ = std::make_unique<videomamba::Model>(videomamba::Model::load(config.videomamba, vm_options));

  const int64_t H = m->lm_->config().hidden_size;
  const DType projector_dtype = options.f32_projectors ? DType::F32 : dtype;
  m->image_projector_ = projector_from(config.image_projector, 12, m->clip_->config().hidden_size, H, options, 0x1111,
                                       "image", projector_dtype, device);
  m->video_projector_ = projector_from(config.video_projector, 7, m->videomamba_->config().embed_dim, H, options, 0x2222,
                                       "video", projector_dtype, device);
  m->lora_ = std::make_unique<models::LoraSet>();
  // A saved adapter computes in the model's dtype, on its device.
  if (!config.lora.empty()) *m->lora_ = train::load_peft_adapter(config.lora, *m->lm_);
  m->lm_->set_lora(m->lora_.get());

  VisualEncoderOptions encoder_options;
  encoder_options.frames = config.frames;
  encoder_options.reference_sampling = config.reference_sampling;
  m->encoder_ = std::make_unique<VisualEncoder>(*m->clip_, *m->videomamba_, m->image_projector_.get(),
                                                m->video_projector_.get(), encoder_options);
  return m;
}

text::ChatPrompt VideoLanguageModel::chat_prompt(const std::string& question, const std::optional<std::string>& answer,
                                                 bool with_media) const {
  std::vector<text::ChatMessage> messages;
  if (!config_.system_prompt.empty()) messages.push_back({"system", config_.system_prompt});
  // The clip comes first in the user turn, then the question (the reference's order, §1.8).
  messages.push_back({"user", (with_media ? std::string(text::kMediaPlaceholder) + "\n" : std::string()) + question});
  if (answer) messages.push_back({"model", *answer});
  text::ChatTemplateOptions options;
  options.add_generation_prompt = !answer.has_value();
  return text::apply_chat_template(*tokenizer_, messages, options);
}

SplicedSequence VideoLanguageModel::sequence(const Tensor& visual_tokens, const std::string& question,
                                             const std::optional<std::string>& answer, const SpliceOptions& options) const {
  const bool with_media = visual_tokens.defined();
  std::vector<Tensor> visual;
  if (with_media) visual.push_back(visual_tokens);
  return splice_visual_tokens(*lm_, chat_prompt(question, answer, with_media), visual, options);
}

std::vector<GenerationResult> VideoLanguageModel::answer_tokens(const std::vector<Tensor>& visual_tokens,
                                                               const std::string& question,
                                                               const GenerationOptions& options,
                                                               const TokenCallback& on_token) const {
  std::vector<Prompt> prompts;
  SpliceOptions splice;
  splice.label_answers = false;
  for (const Tensor& tokens : visual_tokens) {
    SplicedSequence s = sequence(tokens, question.empty() ? config_.default_prompt() : question, std::nullopt, splice);
    Prompt p;
    p.embeds = s.embeds;
    p.ple_ids = s.ple_ids;
    prompts.push_back(std::move(p));
  }
  // Made on first use: training changes the adapter set after loading, and a Decoder records
  // again when it sees a different one.
  if (decoder_ == nullptr) decoder_ = std::make_unique<Decoder>(*lm_);
  return generate(*decoder_, prompts, options, on_token);
}

std::vector<GenerationResult> VideoLanguageModel::answer(const std::vector<std::string>& videos, const std::string& question,
                                                         const GenerationOptions& options, const TokenCallback& on_token) const {
  std::vector<Tensor> tokens;
  for (const std::string& video : videos) tokens.push_back(encoder_->encode_video(video).visual_tokens);
  return answer_tokens(tokens, question, options, on_token);
}

std::string VideoLanguageModel::decode(const std::vector<int32_t>& ids) const {
  return tokenizer_->decode(ids, /*skip_special_tokens=*/true);
}

}  // namespace vg
