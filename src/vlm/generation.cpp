#include "vlm/generation.h"

#include <algorithm>

#include "ops/ops.h"

namespace vg {
namespace {

constexpr int32_t kEndOfTurn = 106;
constexpr int64_t kCapacityStep = 256;  // KV cache sizes are multiples of this

std::vector<int32_t> default_stop_ids(const gemma3n::Config& c) {
  std::vector<int32_t> ids;
  for (int64_t id : c.eos_token_ids) ids.push_back(static_cast<int32_t>(id));
  if (kEndOfTurn < c.vocab_size) ids.push_back(kEndOfTurn);  // instruction-tuned models end turns with it
  return ids;
}

// Left-pads the prompts into one batch: embeddings [B, T, D], per-layer ids, validity and RoPE
// positions (the count of real tokens before each one, as transformers derives them).
gemma3n::ForwardArgs prefill_batch(const gemma3n::Model& model, const std::vector<Prompt>& prompts) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t T = 0;
  for (const Prompt& p : prompts) T = std::max(T, p.length());
  const int64_t D = model.config().hidden_size;
  const int32_t pad = static_cast<int32_t>(model.config().pad_token_id);
  std::vector<int64_t> ids(static_cast<size_t>(B * T), pad), ple(static_cast<size_t>(B * T), pad);
  std::vector<int64_t> positions(static_cast<size_t>(B * T), 1);
  std::vector<uint8_t> valid(static_cast<size_t>(B * T), 0);
  std::vector<Tensor> rows;
  bool any_embeds = false;
  for (const Prompt& p : prompts) any_embeds = any_embeds || p.embeds.defined();
  for (int64_t b = 0; b < B; ++b) {
    const Prompt& p = prompts[static_cast<size_t>(b)];
    const int64_t n = p.length(), offset = T - n;
    for (int64_t t = 0; t < n; ++t) {
      const size_t at = static_cast<size_t>(b * T + offset + t);
      valid[at] = 1;
      positions[at] = t;
      if (!p.embeds.defined()) ids[at] = p.ids[static_cast<size_t>(t)];
      const std::vector<int32_t>& ple_source = p.embeds.defined() ? p.ple_ids : p.ids;
      if (!ple_source.empty()) ple[at] = ple_source[static_cast<size_t>(t)];
    }
    if (any_embeds) {
      Tensor e = p.embeds.defined() ? p.embeds : model.embed(Tensor::from_vector(p.ids, {n}).to(DType::I64));
      VG_CHECK(e.rank() == 2 && e.size(1) == D, "generate", "prompt embeddings ", e.describe(), " must be [T, ", D,
               "]");
      Tensor padding = model.embed(full({offset}, pad, DType::I64));
      rows.push_back(concat({padding, e.to(model.dtype())}, 0));
    }
  }
  gemma3n::ForwardArgs args;
  args.ids = Tensor::from_vector(ids, {B, T});
  if (any_embeds) args.embeds = stack(rows, 0);
  args.ple_ids = Tensor::from_vector(ple, {B, T});
  args.positions = Tensor::from_vector(positions, {B, T});
  args.valid = Tensor::from_vector(valid, {B, T}).to(DType::Bool);
  return args;
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::Length: return "length";
    case FinishReason::StopToken: return "stop";
    case FinishReason::StopString: return "stop_string";
    case FinishReason::Callback: return "callback";
  }
  return "?";
}

std::vector<GenerationResult> generate(const gemma3n::Model& model, const std::vector<Prompt>& prompts,
                                       const GenerationOptions& options, const TokenCallback& on_token) {
  Decoder decoder(model);
  return generate(decoder, prompts, options, on_token);
}

std::vector<GenerationResult> generate(Decoder& decoder, const std::vector<Prompt>& prompts,
                                       const GenerationOptions& options, const TokenCallback& on_token) {
  NoGradGuard no_grad;
  const gemma3n::Model& model = decoder.model();
  const gemma3n::Config& c = model.config();
  VG_CHECK(!prompts.empty(), "generate", "no prompts given");
  VG_CHECK(options.max_new_tokens >= 0, "generate", "max_new_tokens must be >= 0, got ", options.max_new_tokens);
  int64_t longest = 0;
  for (const Prompt& p : prompts) {
    VG_CHECK(p.length() > 0, "generate", "a prompt is empty");
    for (int32_t id : p.ids) {
      VG_CHECK(id >= 0 && id < c.vocab_size, "generate", "token id ", id, " is outside the vocabulary [0, ",
               c.vocab_size, ")");
    }
    longest = std::max(longest, p.length());
  }
  VG_CHECK(longest + options.max_new_tokens <= c.max_position_embeddings, "generate", "a prompt of ", longest,
           " tokens plus ", options.max_new_tokens, " new tokens exceeds the model's context of ",
           c.max_position_embeddings, " tokens");
  const std::vector<int32_t> stop_ids = options.stop_ids.has_value() ? *options.stop_ids : default_stop_ids(c);

  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<GenerationResult> results(static_cast<size_t>(B));
  if (options.max_new_tokens == 0) return results;
  std::vector<Sampler> samplers;
  for (int64_t b = 0; b < B; ++b) {
    SamplingOptions s = options.sampling;
    s.seed += static_cast<uint64_t>(b);  // rows draw independent streams
    samplers.emplace_back(s);
  }
  // Greedy without a penalty is the device's argmax: no logits come to the host.
  const bool device_argmax = samplers.front().is_greedy() && options.sampling.repetition_penalty == 1.0;
  std::vector<std::vector<int32_t>> history(static_cast<size_t>(B));  // prompt + generated, for the penalty
  std::vector<int64_t> next_position(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    history[static_cast<size_t>(b)] = prompts[static_cast<size_t>(b)].ids;
    next_position[static_cast<size_t>(b)] = prompts[static_cast<size_t>(b)].length();
  }
  std::vector<bool> done(static_cast<size_t>(B), false);

  // The cache holds the padded prompt and every step but the last (its token is not fed back),
  // rounded up so that similar requests share a recorded decode step.
  const int64_t needed = longest + options.max_new_tokens - 1;
  const int64_t capacity =
      std::min(c.max_position_embeddings, (needed + kCapacityStep - 1) / kCapacityStep * kCapacityStep);
  Tensor logits = decoder.prefill(prefill_batch(model, prompts), capacity);  // [B, V]
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const std::vector<int32_t> argmax = device_argmax ? decoder.greedy_ids() : std::vector<int32_t>{};
    std::vector<int64_t> next(static_cast<size_t>(B), c.pad_token_id);
    for (int64_t b = 0; b < B; ++b) {
      const auto row = static_cast<size_t>(b);
      if (done[row]) continue;
      const int32_t id = device_argmax ? argmax[row] : samplers[row].next(logits.select(0, b), history[row]);
      next[row] = id;
      history[row].push_back(id);
      const bool is_stop = std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end();
      if (!is_stop || options.include_stop_token) results[row].ids.push_back(id);
      if (is_stop) {
        results[row].finish_reason = FinishReason::StopToken;
        done[row] = true;
      } else if (on_token && !on_token(b, id)) {
        results[row].finish_reason = FinishReason::Callback;
        done[row] = true;
      }
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) || step + 1 == options.max_new_tokens) break;
    // One decode step for every row; finished rows feed padding that nothing attends to.
    std::vector<int64_t> positions(static_cast<size_t>(B));
    std::vector<uint8_t> valid(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      positions[static_cast<size_t>(b)] = next_position[static_cast<size_t>(b)]++;
      valid[static_cast<size_t>(b)] = done[static_cast<size_t>(b)] ? 0 : 1;
    }
    logits = decoder.step(next, positions, valid);  // [B, V]
  }
  return results;
}

}  // namespace vg
