// Porter stemmer (src/eval/porter_stemmer.h) against NLTK 3.8's PorterStemmer in its three modes
// (tests/data/eval/porter_stems.json: the paper's examples, NLTK's irregular forms, a seeded
// sample of WordNet lemmas with suffixes that reach every rule, every golden token, non-ASCII).
#include <gtest/gtest.h>

#include "eval/porter_stemmer.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;

TEST(PorterStemmer, MatchesNltkInAllModes) {
  const auto& cases = golden("porter_stems.json")["cases"];
  ASSERT_GT(cases.size(), 1500u);
  const PorterStemmer nltk(PorterMode::kNltkExtensions);
  const PorterStemmer martin(PorterMode::kMartinExtensions);
  const PorterStemmer original(PorterMode::kOriginalAlgorithm);
  int mismatches = 0;
  const auto check = [&](const std::string& word, const std::string& expected, const std::string& actual,
                         const char* mode) {
    if (actual != expected && ++mismatches <= 10)
      ADD_FAILURE() << mode << " stem of '" << word << "': nltk '" << expected << "', ours '" << actual << "'";
  };
  for (const auto& c : cases) {
    const std::string word = c[0].get<std::string>();
    const std::string stem = c[1].get<std::string>();
    const auto or_stem = [&](const nlohmann::json& v) { return v.is_null() ? stem : v.get<std::string>(); };
    check(word, stem, nltk.stem(word), "NLTK_EXTENSIONS");
    check(word, or_stem(c[2]), martin.stem(word), "MARTIN_EXTENSIONS");
    check(word, or_stem(c[3]), original.stem(word), "ORIGINAL_ALGORITHM");
    check(word, or_stem(c[4]), nltk.stem(word, /*to_lowercase=*/false), "NLTK_EXTENSIONS, to_lowercase=False");
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " words";
}

TEST(PorterStemmer, PaperAndNltkExamples) {
  const PorterStemmer stemmer;
  EXPECT_EQ(stemmer.stem("caresses"), "caress");
  EXPECT_EQ(stemmer.stem("ponies"), "poni");
  EXPECT_EQ(stemmer.stem("relational"), "relat");
  EXPECT_EQ(stemmer.stem("generously"), "gener");
  EXPECT_EQ(stemmer.stem("bending"), "bend");
  EXPECT_EQ(stemmer.stem("knees"), "knee");
  EXPECT_EQ(stemmer.stem("dying"), "die");  // NLTK's irregular forms
  EXPECT_EQ(stemmer.stem("Dying"), "dy");   // ... are looked up before lowercasing, as NLTK does
  EXPECT_EQ(stemmer.stem("ties"), "tie");   // NLTK: 4-letter "-ies" keeps "ie"
  EXPECT_EQ(PorterStemmer(PorterMode::kOriginalAlgorithm).stem("ties"), "ti");
  EXPECT_EQ(stemmer.stem("is"), "is");  // words of up to 2 letters are left alone
  EXPECT_EQ(stemmer.stem(""), "");
}

}  // namespace
}  // namespace vg::eval
