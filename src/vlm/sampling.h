// Token sampling: turns one row of next-token logits into a token id, with Hugging Face
// transformers' repetition penalty, temperature, top-k, top-p and min-p (docs/generation.md).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"

namespace vg {

struct SamplingOptions {
  double temperature = 1.0;  // 0 (or greedy = true) means greedy argmax
  bool greedy = false;
  int64_t top_k = 0;                // 0 = off
  double top_p = 1.0;               // 1 = off
  double min_p = 0.0;               // 0 = off
  double repetition_penalty = 1.0;  // 1 = off
  uint64_t seed = 0;
};

// Applies, in transformers' order: the repetition penalty over the ids in `previous` (each id
// once: logit > 0 ? logit / p : logit * p), temperature, top-k (ties with the k-th value are
// kept), top-p (the smallest top set whose probability reaches top_p, at least one token; among
// equal logits the lower id counts as smaller, as a stable ascending sort orders them), min-p
// (keeps prob >= min_p * max prob). Then it draws from the softmax of what is left, or takes
// the argmax when greedy (ties go to the lowest id, as torch.argmax).
//
// Greedy decoding, like transformers' greedy search, applies only the repetition penalty: the
// temperature and the filters never change the argmax, so they are skipped.
//
// A +inf logit takes all the probability: the +inf tokens share it equally. -inf logits (masked
// tokens) are never drawn; a row with no finite or +inf logit, or with a NaN, is an error.
class Sampler {
 public:
  // Throws vg::Error("[sampling] ...") for options that make no sense.
  explicit Sampler(SamplingOptions options);
  ~Sampler();
  Sampler(Sampler&&) noexcept;
  Sampler& operator=(Sampler&&) noexcept;

  const SamplingOptions& options() const { return options_; }
  bool is_greedy() const { return options_.greedy || options_.temperature == 0.0; }

  // logits_row: [V] of a floating dtype, on any device. previous: ids in [0, V). Each call
  // that samples (not greedy) uses one uniform number from generator().
  int32_t next(const Tensor& logits_row, const std::vector<int32_t>& previous);

  // The processed logits, as transformers' processors return them: after the penalty, the
  // temperature and the filters, removed tokens at -inf (greedy: after the penalty only). Their
  // softmax is the distribution next() draws from. f64 for f64 input, f32 otherwise.
  Tensor processed_logits(const Tensor& logits_row, const std::vector<int32_t>& previous) const;

  // Seeded by options.seed; its state can be saved and restored to replay a generation.
  Generator& generator() { return generator_; }

 private:
  // Scratch space reused across calls, so a step allocates nothing once it has seen the
  // vocabulary (defined in sampling.cpp).
  struct Workspace;

  void process(const Tensor& logits_row, const std::vector<int32_t>& previous, Workspace& ws) const;
  int32_t draw(Workspace& ws);

  SamplingOptions options_;
  Generator generator_;
  std::unique_ptr<Workspace> workspace_;
};

}  // namespace vg
