// videogemma generate: stream a continuation of a prompt (chat-formatted text, raw text or ids).
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/log.h"
#include "model_options.h"
#include "text/chat_template.h"
#include "vlm/generation.h"
#include "vlm/stop_strings.h"
#include "vlm/video_language_model.h"

namespace vg::cli {
namespace {

struct GenerateOptions {
  ModelOptions model;
  std::string video;
  std::string prompt;
  std::string system;
  std::string ids;
  bool raw = false;
  bool json = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  GenerationOptions generation;
};

// Streams the continuation of `prompt` (text when a tokenizer is given, else ids).
void stream(const gemma3n::Model& model, const text::Tokenizer* tokenizer, const Prompt& prompt, GenerateOptions& o);

// --video: the model is a video-language model config; the clip is encoded and spliced in.
void run_video_generate(GenerateOptions& o) {
  VG_CHECK(o.ids.empty() && !o.raw, "cli", "--video takes a question (--prompt), not --ids or --raw");
  VlmConfig config = VlmConfig::load(o.model.model);
  o.model.override(config);  // --device and --dtype, when given
  std::unique_ptr<VideoLanguageModel> vlm = VideoLanguageModel::load(config);
  const std::string question = o.prompt.empty() ? vlm->config().default_prompt() : o.prompt;
  VG_CHECK(o.system.empty(), "cli", "with --video the system prompt comes from the model config (\"system_prompt\")");
  const auto encode_start = std::chrono::steady_clock::now();
  VisualEncoding e = vlm->encoder().encode_video(o.video);
  synchronize(vlm->encoder().device());  // the encoding's work, not its enqueueing
  const double encode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - encode_start).count();
  logging::info("encoded ", e.frame_indices.size(), " frames into ", e.visual_tokens.size(0), " visual tokens in ",
                encode_seconds, " s");
  SpliceOptions splice;
  splice.label_answers = false;
  SplicedSequence s = vlm->sequence(e.visual_tokens, question, std::nullopt, splice);
  Prompt prompt;
  prompt.embeds = s.embeds;
  prompt.ple_ids = s.ple_ids;
  stream(vlm->language_model(), &vlm->tokenizer(), prompt, o);
}

void run_generate(GenerateOptions o) {
  std::error_code ec;
  const bool config_file = std::filesystem::is_regular_file(o.model.model, ec);
  if (!o.video.empty() || config_file) {
    VG_CHECK(!o.video.empty(), "cli", o.model.model, " is a model config: give a clip with --video");
    VG_CHECK(config_file, "cli", "--video needs --model to be a video-language model config (a .json file, docs/vision.md), not ",
             o.model.model);
    return run_video_generate(o);
  }
  VG_CHECK(o.prompt.empty() != o.ids.empty(), "cli", "give exactly one of --prompt and --ids");
  gemma3n::Model model = o.model.load_model();
  std::optional<text::Tokenizer> tokenizer = o.model.load_tokenizer();
  VG_CHECK(o.ids.empty() ? tokenizer.has_value() : true, "cli",
           "--prompt needs a tokenizer: the model folder has no tokenizer.json, pass --tokenizer");
  VG_CHECK(o.stop.empty() || tokenizer.has_value(), "cli", "--stop needs a tokenizer to read the text");

  Prompt prompt;
  if (!o.ids.empty()) {
    prompt.ids = parse_ids(o.ids);
  } else if (o.raw) {
    prompt.ids = tokenizer->encode(o.prompt, true);
  } else {
    std::vector<text::ChatMessage> messages;
    if (!o.system.empty()) messages.push_back({"system", o.system});
    messages.push_back({"user", o.prompt});
    text::ChatTemplateOptions chat;
    chat.add_generation_prompt = true;
    chat.placeholder.clear();
    prompt.ids = text::apply_chat_template(*tokenizer, messages, chat).ids;
  }
  stream(model, tokenizer ? &*tokenizer : nullptr, prompt, o);
}

void stream(const gemma3n::Model& model, const text::Tokenizer* tokenizer, const Prompt& prompt, GenerateOptions& o) {
  if (o.ignore_eos) o.generation.stop_ids = std::vector<int32_t>{};

  std::optional<text::StreamDecoder> decoder;
  if (tokenizer != nullptr) decoder.emplace(*tokenizer, /*skip_special_tokens=*/true);
  StopStringFilter filter(o.stop);
  std::string text;
  bool stopped_by_string = false;
  const auto start = std::chrono::steady_clock::now();
  auto first_token = start;
  int64_t generated = 0;
  std::vector<GenerationResult> results = generate(model, {prompt}, o.generation, [&](int64_t, int32_t id) {
    if (generated++ == 0) first_token = std::chrono::steady_clock::now();
    if (!decoder) return true;
    std::string shown = filter.push(decoder->push(id), &stopped_by_string);
    text += shown;
    if (!o.json && !shown.empty()) {
      std::fputs(shown.c_str(), stdout);
      std::fflush(stdout);
    }
    return !stopped_by_string;
  });
  GenerationResult& r = results[0];
  if (decoder && !stopped_by_string) {
    std::string rest = filter.push(decoder->flush(), &stopped_by_string) + filter.finish();
    text += rest;
    if (!o.json) std::fputs(rest.c_str(), stdout);
  }
  if (stopped_by_string) r.finish_reason = FinishReason::StopString;
  const auto end = std::chrono::steady_clock::now();
  const double prefill = std::chrono::duration<double>(first_token - start).count();
  const double decode = std::chrono::duration<double>(end - first_token).count();
  const double rate = generated > 1 && decode > 0 ? static_cast<double>(generated - 1) / decode : 0.0;
  if (o.json) {
    nlohmann::json doc = {{"ids", r.ids},
                          {"text", text},
                          {"finish_reason", finish_reason_name(r.finish_reason)},
                          {"prompt_tokens", prompt.length()},
                          {"time_to_first_token_s", prefill},
                          {"tokens_per_second", rate}};
    std::printf("%s\n", doc.dump().c_str());
  } else {
    if (!decoder) {
      for (size_t i = 0; i < r.ids.size(); ++i) std::printf("%s%d", i ? " " : "", r.ids[i]);
    }
    std::printf("\n");
    logging::info(prompt.length(), " prompt tokens, first token after ", prefill, " s, ", r.ids.size(), " tokens at ",
                  rate, " tokens/s (", finish_reason_name(r.finish_reason), ")");
  }
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  o->generation.sampling.temperature = 0.0;  // greedy unless asked
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with a Gemma 3n model, streaming the text");
  o->model.add_to(*cmd);
  cmd->add_option("--video", o->video, "a clip to ask about; --model is then a model config (.json)");
  cmd->add_option("--prompt", o->prompt, "user message, wrapped in the Gemma chat template (with --video: the question)");
  cmd->add_option("--system", o->system, "system message (with --prompt)");
  cmd->add_flag("--raw", o->raw, "use --prompt as plain text (with <bos>), without the chat template");
  cmd->add_option("--ids", o->ids, "prompt token ids, e.g. 2,17,300");
  cmd->add_option("--max-new-tokens", o->generation.max_new_tokens, "tokens to generate at most (default 256)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--temperature", o->generation.sampling.temperature, "0 (default) is greedy; Gemma suggests 1.0");
  cmd->add_option("--top-k", o->generation.sampling.top_k, "keep the k most likely tokens (Gemma suggests 64)");
  cmd->add_option("--top-p", o->generation.sampling.top_p, "nucleus sampling (Gemma suggests 0.95)");
  cmd->add_option("--min-p", o->generation.sampling.min_p, "drop tokens below min-p x the top probability");
  cmd->add_option("--repetition-penalty", o->generation.sampling.repetition_penalty, "1 (default) is off");
  cmd->add_option("--seed", o->generation.sampling.seed, "random seed for sampling");
  cmd->add_option("--stop", o->stop, "stop when this text appears (repeatable)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "do not stop at <eos> or <end_of_turn>");
  cmd->add_flag("--json", o->json, "print {\"ids\", \"text\", ...} as JSON instead of streaming");
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace vg::cli
