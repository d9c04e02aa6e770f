// Visual tokens into the language model's input (design.md §4, specs/mobile-videogpt-reference.md
// §1.8): each media token of a rendered chat prompt is replaced by a block of visual tokens. Text
// rows are Gemma's scaled token embeddings; visual rows enter as they are (no sqrt(D)), look up
// per-layer embedding id 0, and never carry loss. Labels mark the answer tokens of model turns
// (their content and the closing <end_of_turn>, so the model learns to stop).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "models/gemma3n/model.h"
#include "text/chat_template.h"

namespace vg {

inline constexpr int64_t kIgnoreLabel = -100;

struct SplicedSequence {
  Tensor embeds;                  // [T, D] in the model's dtype; differentiable in the visual rows
  std::vector<int32_t> ple_ids;   // [T]: the token id, or 0 on visual rows
  std::vector<int64_t> labels;    // [T]: the token id on answer tokens, kIgnoreLabel elsewhere
  std::vector<int32_t> token_ids; // [T]: the token id, or -1 on visual rows (for inspection)
  int64_t visual_end = 0;         // index after the last visual row (0 without media)
  int64_t length() const { return static_cast<int64_t>(ple_ids.size()); }
};

struct SpliceOptions {
  bool label_answers = true;  // labels on model-turn contents; false: every label ignored (inference)
  int64_t max_length = 0;     // > 0: cut the sequence's tail to this length, never inside the
                              // visual tokens or the prompt before them (that is an error instead)
};

// `visual[i]` ([Ni, D], the LM width, any device and floating dtype) replaces media token i of the
// prompt; the sequence's embeddings are on the model's device, in its dtype. Throws
// vg::Error("[vlm] ...") when the counts differ, a block has the wrong width, or max_length
// would cut into the visual tokens.
SplicedSequence splice_visual_tokens(const gemma3n::Model& model, const text::ChatPrompt& prompt,
                                     const std::vector<Tensor>& visual, const SpliceOptions& options = {});

// A training batch of spliced sequences, right-padded: embeds [B, T, D], ple_ids i64 [B, T],
// labels i64 [B, T] (kIgnoreLabel on padding), valid bool [B, T].
struct SplicedBatch {
  Tensor embeds, ple_ids, labels, valid;
};
SplicedBatch collate(const std::vector<SplicedSequence>& sequences);

}  // namespace vg
