#include "vlm/splice.h"

#include <algorithm>

#include "ops/ops.h"

namespace vg {

SplicedSequence splice_visual_tokens(const gemma3n::Model& model, const text::ChatPrompt& prompt,
                                     const std::vector<Tensor>& visual, const SpliceOptions& options) {
  const int64_t D = model.config().hidden_size;
  VG_CHECK(visual.size() == prompt.media_positions.size(), "vlm", "the prompt has ", prompt.media_positions.size(),
           " media tokens but ", visual.size(), " blocks of visual tokens were given");
  for (const Tensor& v : visual) {
    VG_CHECK(v.rank() == 2 && v.size(1) == D, "vlm", "visual tokens must be [N, ", D, "] (the language model's width), got ",
             v.describe());
  }
  // Answer tokens: the content of each model turn and its <end_of_turn>.
  std::vector<bool> answer(prompt.ids.size(), false);
  if (options.label_answers) {
    for (const text::ChatTurnSpan& turn : prompt.turns) {
      if (turn.role != "model") continue;
      for (int64_t i = turn.content_begin; i <= turn.content_end && i < static_cast<int64_t>(answer.size()); ++i) {
        answer[static_cast<size_t>(i)] = true;
      }
    }
  }

  SplicedSequence out;
  std::vector<Tensor> pieces;  // alternating text embeddings and visual blocks, [n, D] each
  int64_t text_start = 0;
  auto add_text = [&](int64_t begin, int64_t end) {
    if (end <= begin) return;
    std::vector<int64_t> ids(prompt.ids.begin() + begin, prompt.ids.begin() + end);
    Tensor t = Tensor::from_vector(ids, {1, end - begin});
    pieces.push_back(model.embed(t).select(0, 0));  // [n, D], scaled by sqrt(D)
    for (int64_t i = begin; i < end; ++i) {
      const int32_t id = prompt.ids[static_cast<size_t>(i)];
      out.ple_ids.push_back(id);
      out.token_ids.push_back(id);
      out.labels.push_back(answer[static_cast<size_t>(i)] ? id : kIgnoreLabel);
    }
  };
  for (size_t m = 0; m < visual.size(); ++m) {
    const int64_t at = prompt.media_positions[m];
    add_text(text_start, at);
    pieces.push_back(visual[m].to(model.device()).to(model.dtype()));  // [Nv, D], unscaled, where the model computes
    for (int64_t i = 0; i < visual[m].size(0); ++i) {
      out.ple_ids.push_back(0);
      out.token_ids.push_back(-1);
      out.labels.push_back(kIgnoreLabel);
    }
    out.visual_end = out.length();
    text_start = at + 1;
  }
  add_text(text_start, static_cast<int64_t>(prompt.ids.size()));
  VG_CHECK(!pieces.empty(), "vlm", "an empty prompt");
  out.embeds = pieces.size() == 1 ? pieces[0] : concat(pieces, 0);  // [T, D]

  if (options.max_length > 0 && out.length() > options.max_length) {
    // The first answer token must survive too, or nothing would be learned from the record.
    int64_t first_answer = out.length();
    for (int64_t i = 0; i < out.length(); ++i) {
      if (out.labels[static_cast<size_t>(i)] != kIgnoreLabel) {
        first_answer = i;
        break;
      }
    }
    const int64_t must_keep = std::max(out.visual_end, options.label_answers && first_answer < out.length() ? first_answer + 1 : 0);
    VG_CHECK(must_keep <= options.max_length, "vlm", "the prompt with its ", out.visual_end > 0 ? "visual tokens" : "text",
             " needs ", must_keep, " tokens, more than the maximum length ", options.max_length);
    const auto n = static_cast<size_t>(options.max_length);
    out.embeds = out.embeds.narrow(0, 0, options.max_length);
    out.ple_ids.resize(n);
    out.token_ids.resize(n);
    out.labels.resize(n);
  }
  return out;
}

SplicedBatch collate(const std::vector<SplicedSequence>& sequences) {
  VG_CHECK(!sequences.empty(), "vlm", "an empty batch");
  const int64_t B = static_cast<int64_t>(sequences.size());
  int64_t T = 0;
  for (const SplicedSequence& s : sequences) T = std::max(T, s.length());
  const Tensor& first = sequences[0].embeds;
  const int64_t D = first.size(1);
  std::vector<Tensor> rows;
  std::vector<int64_t> ple(static_cast<size_t>(B * T), 0), labels(static_cast<size_t>(B * T), kIgnoreLabel);
  std::vector<uint8_t> valid(static_cast<size_t>(B * T), 0);
  for (int64_t b = 0; b < B; ++b) {
    const SplicedSequence& s = sequences[static_cast<size_t>(b)];
    const int64_t n = s.length();
    Tensor e = s.embeds;
    if (n < T) e = concat({e, zeros({T - n, D}, e.dtype(), e.device())}, 0);  // right padding
    rows.push_back(e.unsqueeze(0));
    for (int64_t t = 0; t < n; ++t) {
      const auto i = static_cast<size_t>(b * T + t);
      ple[i] = s.ple_ids[static_cast<size_t>(t)];
      labels[i] = s.labels[static_cast<size_t>(t)];
      valid[i] = 1;
    }
  }
  SplicedBatch out;
  out.embeds = B == 1 ? rows[0] : concat(rows, 0);  // [B, T, D]
  out.ple_ids = Tensor::from_vector(ple, {B, T});
  out.labels = Tensor::from_vector(labels, {B, T});
  out.valid = Tensor::from_vector(valid, {B, T}).to(DType::Bool);
  return out;
}

}  // namespace vg
