// NLTKWordTokenizer (src/eval/word_tokenizer.h) against NLTK 3.8's own tokens for every text of
// the goldens (tests/data/eval/word_tokens.json: the metric pairs plus edge cases: quotes of
// every kind, contractions, final periods, ellipses, commas before digits, Unicode).
#include <gtest/gtest.h>

#include "eval/punkt.h"
#include "eval/word_tokenizer.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;
using testing::join;

std::vector<std::string> strings(const nlohmann::json& array) { return array.get<std::vector<std::string>>(); }

TEST(WordTokenizer, MatchesNltkOnEveryGoldenText) {
  const auto& cases = golden("word_tokens.json")["cases"];
  ASSERT_GT(cases.size(), 500u);
  int mismatches = 0;
  for (const auto& c : cases) {
    const std::string text = c[0].get<std::string>();
    const std::vector<std::string> expected = strings(c[1]);
    const std::vector<std::string> actual = tokenize_words(text);
    if (actual != expected && ++mismatches <= 10)
      ADD_FAILURE() << "text " << nlohmann::json(text).dump() << "\n  nltk: " << join(expected)
                    << "\n  ours: " << join(actual);
    const std::vector<std::string> converted = c.size() > 2 ? strings(c[2]) : expected;
    if (tokenize_words(text, {.convert_parentheses = true}) != converted && ++mismatches <= 10)
      ADD_FAILURE() << "convert_parentheses differs for " << nlohmann::json(text).dump();
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " texts";
}

TEST(WordTokenizer, HandCheckedExamples) {
  // NLTK's docstring example: inner periods stay attached, the final one is split.
  EXPECT_EQ(tokenize_words("Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks."),
            (std::vector<std::string>{"Good", "muffins", "cost", "$", "3.88", "in", "New", "York.", "Please", "buy",
                                      "me", "two", "of", "them.", "Thanks", "."}));
  EXPECT_EQ(tokenize_words("Don't you're can't gonna"),
            (std::vector<std::string>{"Do", "n't", "you", "'re", "ca", "n't", "gon", "na"}));
  EXPECT_EQ(tokenize_words("\"Stop,\" he said."),
            (std::vector<std::string>{"``", "Stop", ",", "''", "he", "said", "."}));
  EXPECT_EQ(tokenize_words("1,000 a,b"), (std::vector<std::string>{"1,000", "a", ",", "b"}));
  EXPECT_TRUE(tokenize_words("").empty());
  EXPECT_TRUE(tokenize_words(" \n\t ").empty());
}

TEST(WordTokenizer, WordTokenizeSplitsSentencesFirst) {
  const std::string text = "Keep your back straight. Bend your knees.";
  EXPECT_EQ(word_tokenize(text, nullptr),
            (std::vector<std::string>{"Keep", "your", "back", "straight.", "Bend", "your", "knees", "."}));
  const PunktSentenceTokenizer untrained;
  EXPECT_EQ(word_tokenize(text, &untrained),
            (std::vector<std::string>{"Keep", "your", "back", "straight", ".", "Bend", "your", "knees", "."}));
}

}  // namespace
}  // namespace vg::eval
