// BERTScore exactly as the bert_score package (0.3.13, Zhang et al. 2020) computes it with
// bert_score.score(cands, refs, model_type=<BERT folder>, num_layers=..., idf=...,
// rescale_with_baseline=..., baseline_path=...), for BERT-family models (WordPiece tokenizer,
// BertModel weights) run here on the CPU in float32.
//
// Each sentence is stripped (str.strip) and tokenized as [CLS] ... [SEP], cut to the tokenizer's
// model_max_length (512 for BERT); the encoder's hidden state `num_layers` (0 = embeddings) gives
// one vector per token, L2-normalised. For a candidate c and reference r with cosine similarities
// s(i, j), precision P = sum_i w(c_i) max_j s(i, j) / sum_i w(c_i) over candidate tokens, recall R
// the same over reference tokens, F = 2PR / (P + R). Weights: without idf 1, and 0 for [CLS] and
// [SEP]; with idf, w(t) = log((M + 1) / (df(t) + 1)) over the M references (df counts the
// references that contain t; [CLS] and [SEP] are in all of them, so 0). With a baseline b (P, R, F
// each, read as float32 like bert_score does), every score becomes (x - b) / (1 - b).
//
// bert_score's corner cases are kept: a sentence that is empty after tokenization (only [CLS]
// and [SEP]) gives P = R = F = 0 for its pair; F is 0 where it would be NaN (P + R = 0); P or R is
// NaN where every weight of that side is 0 (with idf, a sentence made only of tokens that occur in
// every reference). And pairs are matched in groups of `batch_size` padded to the group's longest
// candidate and reference, where padding cells have similarity 0: a token's best similarity
// counts as at least 0 when the other side is shorter than the longest of its group. With real
// models the best similarity is positive anyway; batch_size 1 turns this off.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/bert/bert_model.h"
#include "text/wordpiece.h"

namespace vg::eval {

// Rescaling constants of one layer, as in bert_score's rescale_baseline/<lang>/<model>.tsv.
struct BertScoreBaseline {
  double precision = 0, recall = 0, f1 = 0;
};

// Reads bert_score's baseline file (comma-separated despite the .tsv name: a header
// "LAYER,P,R,F", then one row per layer) and returns the row whose LAYER is `layer`. Throws
// vg::Error("[bertscore] <path>: ...") when the file is missing or malformed or has no such row.
BertScoreBaseline read_bertscore_baseline(const std::string& path, int64_t layer);

struct BertScoreOptions {
  // The hidden state used: 0 = the embeddings, i = the output of layer i. -1 = the last layer.
  // bert_score's per-model defaults (model2layers) are e.g. 9 for bert-base-uncased, 18 for
  // bert-large-uncased.
  int64_t num_layers = -1;
  bool idf = false;  // idf weights from the references given to score()
  std::optional<BertScoreBaseline> baseline;
  int64_t batch_size = 64;          // pairs per matching group (bert_score's batch_size, see above)
  int64_t encoder_batch_size = 64;  // sentences per encoder pass (only speed and memory depend on it)
};

struct BertScoreResult {
  double precision = 0, recall = 0, f1 = 0;
};

// Token weights: get_idf_dict's result, or 1 with 0 for [CLS] and [SEP] without idf.
struct BertScoreWeights {
  std::unordered_map<int32_t, double> by_id;
  double fallback = 1.0;  // ids not in by_id
  double weight(int32_t id) const {
    const auto it = by_id.find(id);
    return it == by_id.end() ? fallback : it->second;
  }
};

// One sentence as the matching sees it: its token ids, their weights, and the L2-normalised
// hidden states, [ids.size(), dim] row-major.
struct BertScoreTokens {
  std::vector<int32_t> ids;
  std::vector<double> weights;
  std::vector<float> embeddings;
};

// greedy_cos_idf for one pair (before rescaling). `reference_padded`: the reference is shorter
// than the longest reference of its group (padding cells of similarity 0 take part in the
// candidate tokens' max); `candidate_padded` likewise for the reference tokens' max.
BertScoreResult bertscore_match(const BertScoreTokens& candidate, const BertScoreTokens& reference, int64_t dim,
                                bool reference_padded = false, bool candidate_padded = false);

class BertScorer {
 public:
  // `model_folder` is a Hugging Face BERT folder: config.json, model.safetensors (or shards) and
  // tokenizer.json; tokenizer_config.json's model_max_length is used when present. Throws
  // vg::Error ("[bertscore]", "[bert]", "[wordpiece]") naming the file and the problem, and for a
  // num_layers the model does not have.
  explicit BertScorer(const std::string& model_folder, BertScoreOptions options = {});

  // One result per pair (candidates[i], references[i]); with idf the weights come from these
  // references. Sizes must match.
  std::vector<BertScoreResult> score(const std::vector<std::string>& candidates,
                                     const std::vector<std::string>& references) const;

  // bert_score's sent_encode: strip, [CLS] ... [SEP], cut to max_length().
  std::vector<int32_t> encode(std::string_view sentence) const;
  // The weights score() uses for these references (get_idf_dict when options().idf).
  BertScoreWeights weights(const std::vector<std::string>& references) const;
  // Normalised hidden states of `num_layers` for each sentence, in the given order, batched.
  std::vector<BertScoreTokens> embed(const std::vector<std::string>& sentences, const BertScoreWeights& weights) const;

  const BertScoreOptions& options() const { return options_; }
  int64_t num_layers() const { return options_.num_layers; }  // resolved: 0..L
  size_t max_length() const { return max_length_; }
  const text::WordPieceTokenizer& tokenizer() const { return tokenizer_; }
  const bert::Model& model() const { return model_; }

 private:
  BertScoreOptions options_;
  text::WordPieceTokenizer tokenizer_;
  bert::Model model_;
  size_t max_length_ = 512;
};

// The mean of each of P, R and F over the pairs (what bert_score users report as the corpus score).
BertScoreResult bertscore_mean(const std::vector<BertScoreResult>& results);

}  // namespace vg::eval
