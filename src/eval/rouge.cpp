// rouge_score 0.1.2 (rouge_scorer.py, tokenize.py, scoring.py); see rouge.h.
#include "eval/rouge.h"

#include <map>
#include <set>
#include <unordered_map>

#include "eval/python_text.h"

namespace vg::eval {
namespace {

// scoring.fmeasure: Python evaluates 2 * precision * recall left to right.
double fmeasure(double precision, double recall) {
  if (precision + recall > 0) return 2 * precision * recall / (precision + recall);
  return 0.0;
}

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The LCS length table of _lcs_table: (rows + 1) x (cols + 1), row-major.
std::vector<int> lcs_table(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  const size_t cols = can.size() + 1;
  std::vector<int> table((ref.size() + 1) * cols, 0);
  for (size_t i = 1; i <= ref.size(); ++i)
    for (size_t j = 1; j <= can.size(); ++j)
      table[i * cols + j] = ref[i - 1] == can[j - 1] ? table[(i - 1) * cols + j - 1] + 1
                                                     : std::max(table[(i - 1) * cols + j], table[i * cols + j - 1]);
  return table;
}

// lcs_ind: one LCS as indices into ref, read back as _backtrack_norec does (ties go to i - 1).
std::vector<size_t> lcs_indices(const std::vector<std::string>& ref, const std::vector<std::string>& can) {
  const std::vector<int> t = lcs_table(ref, can);
  const size_t cols = can.size() + 1;
  std::vector<size_t> lcs;
  size_t i = ref.size(), j = can.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == can[j - 1]) {
      lcs.push_back(i - 1);
      --i;
      --j;
    } else if (t[i * cols + j - 1] > t[(i - 1) * cols + j]) {
      --j;
    } else {
      --i;
    }
  }
  return {lcs.rbegin(), lcs.rend()};
}

}  // namespace

std::vector<std::string> rouge_tokenize(std::string_view text, bool use_stemmer) {
  // text.lower() then re.sub(r"[^a-z0-9]+", " "): only A-Z, a-z, 0-9, U+0130 (lowercases to
  // "i" + U+0307) and U+212A KELVIN SIGN (to "k") lowercase to something containing [a-z0-9].
  std::vector<std::string> tokens;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : decode_utf8(text)) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
      current.push_back(static_cast<char>(cp));
    } else if (cp >= 'A' && cp <= 'Z') {
      current.push_back(static_cast<char>(cp + 32));
    } else if (cp == 0x212A) {
      current.push_back('k');
    } else if (cp == 0x130) {
      current.push_back('i');
      flush();  // the combining dot above is a separator
    } else {
      flush();
    }
  }
  flush();
  if (use_stemmer) {
    static const PorterStemmer stemmer;
    for (std::string& token : tokens)
      if (token.size() > 3) token = stemmer.stem(token);
  }
  // "One final check to drop any empty or invalid tokens": ^[a-z0-9]+$.
  std::erase_if(tokens, [](const std::string& token) {
    if (token.empty()) return true;
    for (char c : token)
      if (!is_ascii_alnum(c)) return true;
    return false;
  });
  return tokens;
}

RougeScore rouge_n(const std::vector<std::string>& target, const std::vector<std::string>& prediction, int n) {
  const auto ngrams = [n](const std::vector<std::string>& tokens) {
    std::map<std::vector<std::string>, int> counts;
    for (size_t i = 0; i + static_cast<size_t>(n) <= tokens.size(); ++i)
      ++counts[std::vector<std::string>(tokens.begin() + static_cast<std::ptrdiff_t>(i),
                                        tokens.begin() + static_cast<std::ptrdiff_t>(i) + n)];
    return counts;
  };
  const auto target_ngrams = ngrams(target);
  const auto prediction_ngrams = ngrams(prediction);
  long intersection = 0, target_count = 0, prediction_count = 0;
  for (const auto& [ngram, count] : target_ngrams) {
    const auto it = prediction_ngrams.find(ngram);
    intersection += std::min(count, it == prediction_ngrams.end() ? 0 : it->second);
    target_count += count;
  }
  for (const auto& [ngram, count] : prediction_ngrams) prediction_count += count;
  RougeScore score;
  score.precision = static_cast<double>(intersection) / static_cast<double>(std::max(prediction_count, 1L));
  score.recall = static_cast<double>(intersection) / static_cast<double>(std::max(target_count, 1L));
  score.fmeasure = fmeasure(score.precision, score.recall);
  return score;
}

RougeScore rouge_lcs(const std::vector<std::string>& target, const std::vector<std::string>& prediction) {
  if (target.empty() || prediction.empty()) return {};
  // Only the length is needed: two rows of _lcs_table.
  std::vector<int> previous(prediction.size() + 1, 0), current(prediction.size() + 1, 0);
  for (size_t i = 1; i <= target.size(); ++i) {
    for (size_t j = 1; j <= prediction.size(); ++j)
      current[j] = target[i - 1] == prediction[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], current[j - 1]);
    std::swap(previous, current);
  }
  const double lcs = previous[prediction.size()];
  RougeScore score;
  score.precision = lcs / static_cast<double>(prediction.size());
  score.recall = lcs / static_cast<double>(target.size());
  score.fmeasure = fmeasure(score.precision, score.recall);
  return score;
}

RougeScore rouge_summary_lcs(const std::vector<std::vector<std::string>>& target_lines,
                             const std::vector<std::vector<std::string>>& prediction_lines) {
  if (target_lines.empty() || prediction_lines.empty()) return {};
  size_t m = 0, n = 0;
  std::unordered_map<std::string, long> target_counts, prediction_counts;
  for (const auto& line : target_lines) {
    m += line.size();
    for (const std::string& token : line) ++target_counts[token];
  }
  for (const auto& line : prediction_lines) {
    n += line.size();
    for (const std::string& token : line) ++prediction_counts[token];
  }
  if (m == 0 || n == 0) return {};

  long hits = 0;
  for (const auto& ref : target_lines) {
    // _union_lcs: the union of one LCS with each prediction line, as sorted indices into ref.
    std::set<size_t> union_indices;
    for (const auto& can : prediction_lines)
      for (size_t index : lcs_indices(ref, can)) union_indices.insert(index);
    for (size_t index : union_indices) {
      const std::string& token = ref[index];
      long& in_prediction = prediction_counts[token];
      long& in_target = target_counts[token];
      if (in_prediction > 0 && in_target > 0) {
        ++hits;
        --in_prediction;
        --in_target;
      }
    }
  }
  RougeScore score;
  score.recall = static_cast<double>(hits) / static_cast<double>(m);
  score.precision = static_cast<double>(hits) / static_cast<double>(n);
  score.fmeasure = fmeasure(score.precision, score.recall);
  return score;
}

std::vector<std::vector<std::string>> RougeScorer::tokenize_lines(std::string_view text) const {
  // get_sents: text.split("\n") without the empty strings; a line of spaces stays (no tokens).
  std::vector<std::vector<std::string>> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.push_back(rouge_tokenize(text.substr(start, end - start), use_stemmer_));
    start = end + 1;
  }
  return lines;
}

RougeScores RougeScorer::score(std::string_view target, std::string_view prediction) const {
  const std::vector<std::string> target_tokens = rouge_tokenize(target, use_stemmer_);
  const std::vector<std::string> prediction_tokens = rouge_tokenize(prediction, use_stemmer_);
  RougeScores scores;
  scores.rouge1 = rouge_n(target_tokens, prediction_tokens, 1);
  scores.rouge2 = rouge_n(target_tokens, prediction_tokens, 2);
  scores.rougeL = rouge_lcs(target_tokens, prediction_tokens);
  scores.rougeLsum = rouge_summary_lcs(tokenize_lines(target), tokenize_lines(prediction));
  return scores;
}

RougeScore RougeScorer::rouge_l(std::string_view target, std::string_view prediction) const {
  return rouge_lcs(rouge_tokenize(target, use_stemmer_), rouge_tokenize(prediction, use_stemmer_));
}

RougeScore RougeScorer::rouge_lsum(std::string_view target, std::string_view prediction) const {
  return rouge_summary_lcs(tokenize_lines(target), tokenize_lines(prediction));
}

}  // namespace vg::eval
