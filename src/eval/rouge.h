// ROUGE exactly as google-research's rouge_score 0.1.2 computes it
// (rouge_scorer.RougeScorer(types, use_stemmer).score(target, prediction)), which is what
// Hugging Face `evaluate.load("rouge")` wraps (use_stemmer=False by default).
//
// Tokens: str.lower(), every run of characters outside [a-z0-9] becomes a separator, and with
// the stemmer, tokens longer than 3 characters are Porter-stemmed (NLTK_EXTENSIONS).
// rouge1/rouge2: clipped n-gram overlap; rougeL: longest common subsequence; rougeLsum: the
// summary-level union LCS over lines (texts split on "\n", empty lines dropped), counting each
// token at most as often as it occurs on both sides. P = hits / |prediction|,
// R = hits / |target|, F = 2PR / (P + R) (0 when P + R = 0); all 0 when a side has no tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/porter_stemmer.h"

namespace vg::eval {

struct RougeScore {
  double precision = 0;
  double recall = 0;
  double fmeasure = 0;
};

struct RougeScores {
  RougeScore rouge1, rouge2, rougeL, rougeLsum;
};

// rouge_score's tokenize.tokenize(text, stemmer or None).
std::vector<std::string> rouge_tokenize(std::string_view text, bool use_stemmer);

// The scores of rouge_scorer on token lists (target = reference, prediction = hypothesis).
RougeScore rouge_n(const std::vector<std::string>& target, const std::vector<std::string>& prediction, int n);
RougeScore rouge_lcs(const std::vector<std::string>& target, const std::vector<std::string>& prediction);
RougeScore rouge_summary_lcs(const std::vector<std::vector<std::string>>& target_lines,
                             const std::vector<std::vector<std::string>>& prediction_lines);

class RougeScorer {
 public:
  explicit RougeScorer(bool use_stemmer = false) : use_stemmer_(use_stemmer) {}

  // All four types for one pair: score(target, prediction), the rouge_score argument order.
  RougeScores score(std::string_view target, std::string_view prediction) const;
  // Only rougeL: what evaluate's rouge reports as "rougeL" for one sample (its F-measure).
  RougeScore rouge_l(std::string_view target, std::string_view prediction) const;
  RougeScore rouge_lsum(std::string_view target, std::string_view prediction) const;

  bool use_stemmer() const { return use_stemmer_; }

 private:
  std::vector<std::vector<std::string>> tokenize_lines(std::string_view text) const;
  bool use_stemmer_;
};

}  // namespace vg::eval
