// Autoregressive generation with the Gemma 3n model: one prefill of the prompts, then one cached
// decode step per token. A batch holds prompts of different lengths, left-padded as transformers
// does, each with its own stopping; rows never influence each other.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/gemma3n/model.h"
#include "vlm/decoder.h"
#include "vlm/sampling.h"

namespace vg {

struct GenerationOptions {
  int64_t max_new_tokens = 256;
  // seed, temperature, top-k ... Greedy unless a temperature > 0 is set, as transformers' generate
  // without do_sample.
  SamplingOptions sampling{.temperature = 0.0};
  // Tokens that end a row. Unset: the model's eos ids and <end_of_turn> (106); empty: none.
  std::optional<std::vector<int32_t>> stop_ids;
  bool include_stop_token = false;  // keep the stop token at the end of the output
};

enum class FinishReason { Length, StopToken, StopString, Callback };
const char* finish_reason_name(FinishReason reason);

struct GenerationResult {
  std::vector<int32_t> ids;  // generated tokens (the prompt is not included)
  FinishReason finish_reason = FinishReason::Length;
};

// A prompt as ids, or as embeddings plus the ids the per-layer embeddings use (the VLM splices
// visual tokens into the embeddings).
struct Prompt {
  std::vector<int32_t> ids;
  Tensor embeds;                 // [T, D]; overrides ids for the token embeddings
  std::vector<int32_t> ple_ids;  // with embeds: ids for the per-layer lookup (visual positions 0)
  int64_t length() const { return embeds.defined() ? embeds.size(0) : static_cast<int64_t>(ids.size()); }
};

// Called for every generated token of row `row`; return false to stop that row.
using TokenCallback = std::function<bool(int64_t row, int32_t id)>;

// Generates for each prompt (in one batch). Uses no autograd. Throws if a prompt is empty or
// prompt + max_new_tokens exceeds the model's context.
std::vector<GenerationResult> generate(const gemma3n::Model& model, const std::vector<Prompt>& prompts,
                                       const GenerationOptions& options, const TokenCallback& on_token = {});
// The same with a Decoder kept between calls, which reuses its cache and recorded decode step.
std::vector<GenerationResult> generate(Decoder& decoder, const std::vector<Prompt>& prompts,
                                       const GenerationOptions& options, const TokenCallback& on_token = {});

}  // namespace vg
