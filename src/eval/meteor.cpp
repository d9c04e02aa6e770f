// NLTK 3.8's METEOR (nltk/translate/meteor_score.py); see meteor.h.
// The list handling mirrors NLTK's _match_enums and _enum_wordnetsyn_match, pops included, so
// that ties (a word that could match several others) resolve to the same pairs.
#include "eval/meteor.h"

#include <algorithm>
#include <cmath>

#include "eval/python_text.h"
#include "eval/word_tokenizer.h"

namespace vg::eval {
namespace {

// NLTK's "enumerated word list": (original position, current form of the word).
using EnumWords = std::vector<std::pair<size_t, std::string>>;
using Matches = std::vector<std::pair<size_t, size_t>>;

EnumWords enumerate_lowercased(const std::vector<std::string>& words) {
  EnumWords out;
  out.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) out.emplace_back(i, py_lower_utf8(words[i]));
  return out;
}

// _match_enums and _enum_wordnetsyn_match: hypothesis words from the last, reference words from
// the last, the first acceptable pair wins and both words leave their lists.
template <class Accepts>
Matches greedy_match(EnumWords& hypothesis, EnumWords& reference, Accepts accepts) {
  Matches matches;
  for (size_t i = hypothesis.size(); i-- > 0;) {
    for (size_t j = reference.size(); j-- > 0;) {
      if (accepts(hypothesis[i].second, reference[j].second)) {
        matches.emplace_back(hypothesis[i].first, reference[j].first);
        hypothesis.erase(hypothesis.begin() + static_cast<std::ptrdiff_t>(i));
        reference.erase(reference.begin() + static_cast<std::ptrdiff_t>(j));
        break;
      }
    }
  }
  return matches;
}

// _count_chunks over matches sorted by hypothesis index.
size_t count_chunks(const Matches& matches) {
  size_t chunks = 1;
  for (size_t i = 0; i + 1 < matches.size(); ++i) {
    const bool adjacent =
        matches[i + 1].first == matches[i].first + 1 && matches[i + 1].second == matches[i].second + 1;
    if (!adjacent) ++chunks;
  }
  return chunks;
}

}  // namespace

MeteorScorer::MeteorScorer(std::shared_ptr<const WordNet> wordnet, MeteorOptions options)
    : wordnet_(wordnet ? std::move(wordnet) : WordNet::shared()), params_(options.params) {
  if (options.split_sentences) punkt_ = options.punkt ? std::move(options.punkt) : PunktSentenceTokenizer::english();
}

std::vector<std::string> MeteorScorer::tokenize(std::string_view text) const {
  return word_tokenize(text, punkt_.get());
}

const std::vector<std::string>& MeteorScorer::synonyms(const std::string& word) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = synonym_cache_.find(word);
    if (it != synonym_cache_.end()) return it->second;
  }
  std::vector<std::string> names = wordnet_->single_word_synonyms(word);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return synonym_cache_.try_emplace(word, std::move(names)).first->second;
}

MeteorBreakdown MeteorScorer::breakdown(const std::vector<std::string>& reference,
                                        const std::vector<std::string>& hypothesis) const {
  MeteorBreakdown result;
  EnumWords hyp = enumerate_lowercased(hypothesis);
  EnumWords ref = enumerate_lowercased(reference);

  // Stage 1: exact words.
  Matches exact = greedy_match(hyp, ref, [](const std::string& h, const std::string& r) { return h == r; });
  // Stage 2: stems. The stems replace the words in both lists, so stage 3 sees stems.
  for (auto& entry : hyp) entry.second = stemmer_.stem(entry.second);
  for (auto& entry : ref) entry.second = stemmer_.stem(entry.second);
  Matches stem = greedy_match(hyp, ref, [](const std::string& h, const std::string& r) { return h == r; });
  // Stage 3: WordNet synonyms of the hypothesis stem (or the stem itself).
  Matches synonym = greedy_match(hyp, ref, [&](const std::string& h, const std::string& r) {
    if (h == r) return true;
    const std::vector<std::string>& names = synonyms(h);
    return std::binary_search(names.begin(), names.end(), r);
  });

  MeteorAlignment& alignment = result.alignment;
  alignment.exact_matches = exact.size();
  alignment.stem_matches = stem.size();
  alignment.synonym_matches = synonym.size();
  alignment.matches = std::move(exact);
  alignment.matches.insert(alignment.matches.end(), stem.begin(), stem.end());
  alignment.matches.insert(alignment.matches.end(), synonym.begin(), synonym.end());
  std::stable_sort(alignment.matches.begin(), alignment.matches.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  alignment.chunks = count_chunks(alignment.matches);

  // NLTK returns 0.0 on any ZeroDivisionError: an empty side or no match.
  const size_t matched = alignment.matches.size();
  if (hypothesis.empty() || reference.empty() || matched == 0) return result;
  const double precision = static_cast<double>(matched) / static_cast<double>(hypothesis.size());
  const double recall = static_cast<double>(matched) / static_cast<double>(reference.size());
  // Python rounds each product before adding; a fused multiply-add (which -march=native allows
  // the compiler to form) would differ in the last bit, so the products go through memory.
  const volatile double weighted_precision = params_.alpha * precision;
  const volatile double weighted_recall = (1 - params_.alpha) * recall;
  const double denominator = weighted_precision + weighted_recall;
  if (denominator == 0) return result;
  const double fmean = (precision * recall) / denominator;
  const double fragmentation = static_cast<double>(alignment.chunks) / static_cast<double>(matched);
  const double penalty = params_.gamma * std::pow(fragmentation, params_.beta);
  result.precision = precision;
  result.recall = recall;
  result.fmean = fmean;
  result.penalty = penalty;
  result.score = (1 - penalty) * fmean;
  return result;
}

double MeteorScorer::score_tokens(const std::vector<std::string>& reference,
                                  const std::vector<std::string>& hypothesis) const {
  return breakdown(reference, hypothesis).score;
}

double MeteorScorer::score(std::string_view reference, std::string_view hypothesis) const {
  return score_tokens(tokenize(reference), tokenize(hypothesis));
}

double MeteorScorer::score_multi(const std::vector<std::string>& references, std::string_view hypothesis) const {
  const std::vector<std::string> hypothesis_tokens = tokenize(hypothesis);
  double best = 0;
  bool first = true;
  for (const std::string& reference : references) {
    const double s = score_tokens(tokenize(reference), hypothesis_tokens);
    if (first || s > best) best = s;
    first = false;
  }
  return best;
}

}  // namespace vg::eval
