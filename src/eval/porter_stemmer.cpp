// NLTK 3.8's PorterStemmer (nltk/stem/porter.py), step for step; see porter_stemmer.h.
// Quirks kept on purpose because the references have them: the first rule whose suffix matches
// decides even when its condition fails, step 1b's "*d" rule, NLTK's irregular-forms pool that is
// looked up with the word before lowercasing, and length checks on the original word.
#include "eval/porter_stemmer.h"

#include <span>
#include <vector>

#include "eval/python_text.h"

namespace vg::eval {
namespace {

// Conditions of the suffix rules, named after what they test on the remaining stem.
enum class Cond {
  kNone,
  kPositiveMeasure,       // m > 0
  kMeasureAbove1,         // m > 1
  kMeasureAbove1AndSorT,  // step 4 "ion": m > 1 and (*S or *T)
  kConsonantBeforeY,      // step 1c (NLTK): (*c and not c) Y -> I
  kContainsVowel,         // step 1c (original, Martin): (*v*) Y -> I
  kNltkLogi,              // step 2 "logi" (NLTK): m(word[:-3]) > 0, i.e. m(stem + "l") > 0
  kMeasure1AndCvc,        // step 1b: (m=1 and *o) -> E
  kDoubledNotLsz,         // step 1b "*d": the doubled letter is not l, s or z
  kStep5b,                // step 5b: m(word[:-1]) > 1, i.e. m(stem + "l") > 1
};

struct SuffixRule {
  std::u32string_view suffix;
  std::u32string_view replacement;
  Cond cond;
};

// Python's "*d" pseudo-suffix: "ends with a double consonant".
constexpr std::u32string_view kDoubleConsonant = U"*d";

std::u32string drop_last(std::u32string_view word, size_t n) { return std::u32string(word.substr(0, word.size() - n)); }

// NLTK_EXTENSIONS' irregular forms: form -> stem.
struct Irregular {
  std::u32string_view form, stem;
};
constexpr Irregular kIrregularForms[] = {
    {U"sky", U"sky"},        {U"skies", U"sky"},       {U"dying", U"die"},        {U"lying", U"lie"},
    {U"tying", U"tie"},      {U"news", U"news"},       {U"innings", U"inning"},   {U"inning", U"inning"},
    {U"outings", U"outing"}, {U"outing", U"outing"},   {U"cannings", U"canning"}, {U"canning", U"canning"},
    {U"howe", U"howe"},      {U"proceed", U"proceed"}, {U"exceed", U"exceed"},    {U"succeed", U"succeed"},
};

constexpr SuffixRule kStep1aRules[] = {
    {U"sses", U"ss", Cond::kNone}, {U"ies", U"i", Cond::kNone}, {U"ss", U"ss", Cond::kNone}, {U"s", U"", Cond::kNone}};

constexpr SuffixRule kStep1bRules[] = {
    {U"at", U"ate", Cond::kNone},
    {U"bl", U"ble", Cond::kNone},
    {U"iz", U"ize", Cond::kNone},
    {kDoubleConsonant, U"", Cond::kDoubledNotLsz},  // replacement: the doubled letter
    {U"", U"e", Cond::kMeasure1AndCvc},
};

// Step 2 around its mode-dependent entries: "bli" or "abli" (6th), NLTK's and Martin's additions.
constexpr SuffixRule kStep2Head[] = {
    {U"ational", U"ate", Cond::kPositiveMeasure}, {U"tional", U"tion", Cond::kPositiveMeasure},
    {U"enci", U"ence", Cond::kPositiveMeasure},   {U"anci", U"ance", Cond::kPositiveMeasure},
    {U"izer", U"ize", Cond::kPositiveMeasure},
};
constexpr SuffixRule kStep2Tail[] = {
    {U"alli", U"al", Cond::kPositiveMeasure},     {U"entli", U"ent", Cond::kPositiveMeasure},
    {U"eli", U"e", Cond::kPositiveMeasure},       {U"ousli", U"ous", Cond::kPositiveMeasure},
    {U"ization", U"ize", Cond::kPositiveMeasure}, {U"ation", U"ate", Cond::kPositiveMeasure},
    {U"ator", U"ate", Cond::kPositiveMeasure},    {U"alism", U"al", Cond::kPositiveMeasure},
    {U"iveness", U"ive", Cond::kPositiveMeasure}, {U"fulness", U"ful", Cond::kPositiveMeasure},
    {U"ousness", U"ous", Cond::kPositiveMeasure}, {U"aliti", U"al", Cond::kPositiveMeasure},
    {U"iviti", U"ive", Cond::kPositiveMeasure},   {U"biliti", U"ble", Cond::kPositiveMeasure},
};

constexpr SuffixRule kStep3Rules[] = {
    {U"icate", U"ic", Cond::kPositiveMeasure}, {U"ative", U"", Cond::kPositiveMeasure},
    {U"alize", U"al", Cond::kPositiveMeasure}, {U"iciti", U"ic", Cond::kPositiveMeasure},
    {U"ical", U"ic", Cond::kPositiveMeasure},  {U"ful", U"", Cond::kPositiveMeasure},
    {U"ness", U"", Cond::kPositiveMeasure},
};

constexpr SuffixRule kStep4Rules[] = {
    {U"al", U"", Cond::kMeasureAbove1},    {U"ance", U"", Cond::kMeasureAbove1},
    {U"ence", U"", Cond::kMeasureAbove1},  {U"er", U"", Cond::kMeasureAbove1},
    {U"ic", U"", Cond::kMeasureAbove1},    {U"able", U"", Cond::kMeasureAbove1},
    {U"ible", U"", Cond::kMeasureAbove1},  {U"ant", U"", Cond::kMeasureAbove1},
    {U"ement", U"", Cond::kMeasureAbove1}, {U"ment", U"", Cond::kMeasureAbove1},
    {U"ent", U"", Cond::kMeasureAbove1},   {U"ion", U"", Cond::kMeasureAbove1AndSorT},
    {U"ou", U"", Cond::kMeasureAbove1},    {U"ism", U"", Cond::kMeasureAbove1},
    {U"ate", U"", Cond::kMeasureAbove1},   {U"iti", U"", Cond::kMeasureAbove1},
    {U"ous", U"", Cond::kMeasureAbove1},   {U"ive", U"", Cond::kMeasureAbove1},
    {U"ize", U"", Cond::kMeasureAbove1},
};

constexpr SuffixRule kStep5bRules[] = {{U"ll", U"l", Cond::kStep5b}};

// Step 2's rule list in the order NLTK builds it for each mode.
std::vector<SuffixRule> make_step2_rules(PorterMode mode) {
  std::vector<SuffixRule> rules(std::begin(kStep2Head), std::end(kStep2Head));
  rules.push_back(mode == PorterMode::kOriginalAlgorithm ? SuffixRule{U"abli", U"able", Cond::kPositiveMeasure}
                                                         : SuffixRule{U"bli", U"ble", Cond::kPositiveMeasure});
  rules.insert(rules.end(), std::begin(kStep2Tail), std::end(kStep2Tail));
  if (mode == PorterMode::kNltkExtensions) {
    rules.push_back({U"fulli", U"ful", Cond::kPositiveMeasure});
    rules.push_back({U"logi", U"log", Cond::kNltkLogi});
  } else if (mode == PorterMode::kMartinExtensions) {
    rules.push_back({U"logi", U"log", Cond::kPositiveMeasure});
  }
  return rules;
}

std::span<const SuffixRule> step2_rules(PorterMode mode) {
  static const std::vector<SuffixRule> nltk = make_step2_rules(PorterMode::kNltkExtensions);
  static const std::vector<SuffixRule> martin = make_step2_rules(PorterMode::kMartinExtensions);
  static const std::vector<SuffixRule> original = make_step2_rules(PorterMode::kOriginalAlgorithm);
  return mode == PorterMode::kNltkExtensions ? nltk : mode == PorterMode::kMartinExtensions ? martin : original;
}

// The steps of one stemmer mode (PorterStemmer's private methods in NLTK).
class Steps {
 public:
  explicit Steps(PorterMode mode) : mode_(mode) {}

  std::u32string run(std::u32string word) const {
    word = step1a(std::move(word));
    word = step1b(std::move(word));
    word = step1c(std::move(word));
    word = step2(std::move(word));
    word = step3(std::move(word));
    word = step4(std::move(word));
    word = step5a(std::move(word));
    return step5b(std::move(word));
  }

 private:
  bool nltk() const { return mode_ == PorterMode::kNltkExtensions; }

  static bool is_vowel_letter(char32_t c) { return c == U'a' || c == U'e' || c == U'i' || c == U'o' || c == U'u'; }

  // _is_consonant: a 'y' is a consonant at the start of the word or after a vowel.
  bool is_consonant(std::u32string_view word, size_t i) const {
    size_t start = i;
    while (start > 0 && word[start] == U'y') --start;
    bool consonant = true;
    for (size_t k = start; k <= i; ++k) {
      const char32_t c = word[k];
      if (is_vowel_letter(c))
        consonant = false;
      else if (c == U'y')
        consonant = k == 0 ? true : !consonant;
      else
        consonant = true;
    }
    return consonant;
  }

  // _measure: the number of "vc" pairs in the consonant/vowel pattern.
  int measure(std::u32string_view stem) const {
    int m = 0;
    bool previous_vowel = false;
    for (size_t i = 0; i < stem.size(); ++i) {
      const bool consonant = is_consonant(stem, i);
      if (consonant && previous_vowel) ++m;
      previous_vowel = !consonant;
    }
    return m;
  }

  bool contains_vowel(std::u32string_view stem) const {
    for (size_t i = 0; i < stem.size(); ++i)
      if (!is_consonant(stem, i)) return true;
    return false;
  }

  bool ends_double_consonant(std::u32string_view word) const {
    const size_t n = word.size();
    return n >= 2 && word[n - 1] == word[n - 2] && is_consonant(word, n - 1);
  }

  // *o: consonant-vowel-consonant where the last is not w, x or y (NLTK also accepts a 2-letter vc).
  bool ends_cvc(std::u32string_view word) const {
    const size_t n = word.size();
    if (n >= 3 && is_consonant(word, n - 3) && !is_consonant(word, n - 2) && is_consonant(word, n - 1) &&
        word[n - 1] != U'w' && word[n - 1] != U'x' && word[n - 1] != U'y')
      return true;
    return nltk() && n == 2 && !is_consonant(word, 0) && is_consonant(word, 1);
  }

  bool holds(Cond cond, const std::u32string& stem, const std::u32string& word) const {
    switch (cond) {
      case Cond::kNone: return true;
      case Cond::kPositiveMeasure: return measure(stem) > 0;
      case Cond::kMeasureAbove1: return measure(stem) > 1;
      case Cond::kMeasureAbove1AndSorT: return measure(stem) > 1 && (stem.back() == U's' || stem.back() == U't');
      case Cond::kConsonantBeforeY: return stem.size() > 1 && is_consonant(stem, stem.size() - 1);
      case Cond::kContainsVowel: return contains_vowel(stem);
      case Cond::kNltkLogi: return measure(stem + U"l") > 0;
      case Cond::kMeasure1AndCvc: return measure(stem) == 1 && ends_cvc(stem);
      case Cond::kDoubledNotLsz: {
        const char32_t last = word.back();
        return last != U'l' && last != U's' && last != U'z';
      }
      case Cond::kStep5b: return measure(stem + U"l") > 1;
    }
    return false;
  }

  // _apply_rule_list: the first rule whose suffix the word ends with decides, condition or not.
  std::u32string apply(const std::u32string& word, std::span<const SuffixRule> rules) const {
    for (const SuffixRule& rule : rules) {
      if (rule.suffix == kDoubleConsonant && ends_double_consonant(word)) {
        const std::u32string stem = drop_last(word, 2);
        return holds(rule.cond, stem, word) ? stem + word.back() : word;
      }
      if (word.ends_with(rule.suffix)) {  // "*d" is also tried literally, as in Python
        const std::u32string stem = drop_last(word, rule.suffix.size());
        if (!holds(rule.cond, stem, word)) return word;
        return rule.suffix == kDoubleConsonant ? stem + word.back() : stem + std::u32string(rule.replacement);
      }
    }
    return word;
  }

  std::u32string step1a(std::u32string word) const {
    if (nltk() && word.ends_with(U"ies") && word.size() == 4) return drop_last(word, 3) + U"ie";
    return apply(word, kStep1aRules);
  }

  std::u32string step1b(std::u32string word) const {
    if (nltk() && word.ends_with(U"ied")) return drop_last(word, 3) + (word.size() == 4 ? U"ie" : U"i");
    if (word.ends_with(U"eed")) {
      const std::u32string stem = drop_last(word, 3);
      return measure(stem) > 0 ? stem + U"ee" : word;
    }
    for (std::u32string_view suffix : {std::u32string_view(U"ed"), std::u32string_view(U"ing")}) {
      if (!word.ends_with(suffix)) continue;
      const std::u32string intermediate = drop_last(word, suffix.size());
      if (contains_vowel(intermediate)) return apply(intermediate, kStep1bRules);
    }
    return word;
  }

  std::u32string step1c(std::u32string word) const {
    const SuffixRule rule[] = {{U"y", U"i", nltk() ? Cond::kConsonantBeforeY : Cond::kContainsVowel}};
    return apply(word, rule);
  }

  std::u32string step2(std::u32string word) const {
    if (nltk() && word.ends_with(U"alli") && measure(drop_last(word, 4)) > 0) return step2(drop_last(word, 4) + U"al");
    return apply(word, step2_rules(mode_));
  }

  std::u32string step3(std::u32string word) const { return apply(word, kStep3Rules); }
  std::u32string step4(std::u32string word) const { return apply(word, kStep4Rules); }

  std::u32string step5a(std::u32string word) const {
    if (!word.ends_with(U"e")) return word;
    const std::u32string stem = drop_last(word, 1);
    const int m = measure(stem);
    if (m > 1) return stem;
    if (m == 1 && !ends_cvc(stem)) return stem;
    return word;
  }

  std::u32string step5b(std::u32string word) const { return apply(word, kStep5bRules); }

  PorterMode mode_;
};

}  // namespace

std::u32string PorterStemmer::stem(std::u32string_view word, bool to_lowercase) const {
  std::u32string stemmed = to_lowercase ? py_lower(word) : std::u32string(word);
  if (mode_ == PorterMode::kNltkExtensions) {
    // NLTK tests the word as given against the pool but indexes it with the lowercased form;
    // the pool's keys are lowercase, so both are the same whenever the test succeeds.
    for (const Irregular& irregular : kIrregularForms)
      if (irregular.form == word) return std::u32string(irregular.stem);
  }
  if (mode_ != PorterMode::kOriginalAlgorithm && word.size() <= 2) return stemmed;
  return Steps(mode_).run(std::move(stemmed));
}

std::string PorterStemmer::stem(std::string_view word, bool to_lowercase) const {
  return encode_utf8(stem(decode_utf8(word), to_lowercase));
}

}  // namespace vg::eval
