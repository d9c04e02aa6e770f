// METEOR exactly as NLTK 3.8's nltk.translate.meteor_score computes it, which is what Hugging
// Face `evaluate.load("meteor")` returns per sample: single_meteor_score(word_tokenize(reference),
// word_tokenize(prediction), alpha=0.9, beta=3, gamma=0.5).
//
// Words are lowercased with str.lower(); the alignment runs NLTK's three greedy stages in order,
// each scanning hypothesis words from the last to the first and, for each, reference words from
// the last to the first, taking the first equal one: exact words, then Porter stems
// (NLTK_EXTENSIONS) of what is left, then WordNet synonyms (lemma names without '_' of all
// synsets of the hypothesis word's *stem*, plus the stem itself) against the reference *stems*,
// as NLTK does. Then P = m / |hyp|, R = m / |ref|, Fmean = P R / (alpha P + (1 - alpha) R),
// chunks counted over matches sorted by hypothesis position, penalty = gamma (chunks / m)^beta,
// score = (1 - penalty) Fmean; 0 when m, |hyp| or |ref| is 0.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "eval/porter_stemmer.h"
#include "eval/punkt.h"
#include "eval/wordnet.h"

namespace vg::eval {

struct MeteorParams {
  double alpha = 0.9;  // weight of precision against recall in Fmean
  double beta = 3.0;   // shape of the fragmentation penalty
  double gamma = 0.5;  // weight of the fragmentation penalty
};

struct MeteorOptions {
  MeteorParams params;
  // Texts become tokens as nltk.word_tokenize does: Punkt sentences, then the word tokenizer.
  // With split_sentences = false the whole text is one sentence (preserve_line=True).
  bool split_sentences = true;
  // The splitter; null means PunktSentenceTokenizer::english() (the English parameters when
  // installed, else untrained Punkt; see punkt.h).
  std::shared_ptr<const PunktSentenceTokenizer> punkt;
};

struct MeteorAlignment {
  // (hypothesis index, reference index), sorted by hypothesis index.
  std::vector<std::pair<size_t, size_t>> matches;
  size_t exact_matches = 0, stem_matches = 0, synonym_matches = 0;
  size_t chunks = 0;  // NLTK's _count_chunks (1 when there are no matches, as NLTK returns)
};

struct MeteorBreakdown {
  double score = 0, precision = 0, recall = 0, fmean = 0, penalty = 0;
  MeteorAlignment alignment;
};

class MeteorScorer {
 public:
  // Uses WordNet::shared() (the default folder) when no WordNet is given.
  explicit MeteorScorer(std::shared_ptr<const WordNet> wordnet = nullptr, MeteorOptions options = {});

  // evaluate's meteor for one pair of texts: tokenize() both, then score_tokens().
  double score(std::string_view reference, std::string_view hypothesis) const;
  // NLTK's meteor_score(references, hypothesis): the best single score over the references.
  double score_multi(const std::vector<std::string>& references, std::string_view hypothesis) const;

  // single_meteor_score(reference, hypothesis) on tokens (lowercased here).
  double score_tokens(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis) const;
  MeteorBreakdown breakdown(const std::vector<std::string>& reference,
                            const std::vector<std::string>& hypothesis) const;

  // The tokens METEOR sees for a text (word_tokenize with the configured sentence splitting).
  std::vector<std::string> tokenize(std::string_view text) const;

  const MeteorParams& params() const { return params_; }
  // nullptr when sentences are not split.
  const PunktSentenceTokenizer* sentence_splitter() const { return punkt_.get(); }

 private:
  // The synonym set of a (stemmed) hypothesis word; cached, the same word recurs across pairs.
  const std::vector<std::string>& synonyms(const std::string& word) const;

  std::shared_ptr<const WordNet> wordnet_;
  MeteorParams params_;
  std::shared_ptr<const PunktSentenceTokenizer> punkt_;
  PorterStemmer stemmer_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> synonym_cache_;
};

}  // namespace vg::eval
