// The Porter stemmer exactly as NLTK 3.8's nltk.stem.porter.PorterStemmer implements it, in its
// three modes. NLTK_EXTENSIONS (NLTK's default) is the one both references use: NLTK's METEOR
// (stem matches) and google-research rouge_score (use_stemmer=True, words of more than 3
// characters). Works on code points as Python does, so non-ASCII words stem as they do there.
#pragma once

#include <string>
#include <string_view>

namespace vg::eval {

enum class PorterMode {
  kNltkExtensions,    // PorterStemmer.NLTK_EXTENSIONS (default)
  kMartinExtensions,  // PorterStemmer.MARTIN_EXTENSIONS
  kOriginalAlgorithm  // PorterStemmer.ORIGINAL_ALGORITHM
};

class PorterStemmer {
 public:
  explicit PorterStemmer(PorterMode mode = PorterMode::kNltkExtensions) : mode_(mode) {}

  // PorterStemmer.stem(word, to_lowercase): lowercases with str.lower() first by default.
  std::string stem(std::string_view word, bool to_lowercase = true) const;
  std::u32string stem(std::u32string_view word, bool to_lowercase = true) const;

  PorterMode mode() const { return mode_; }

 private:
  PorterMode mode_;
};

}  // namespace vg::eval
