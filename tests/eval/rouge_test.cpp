// ROUGE (src/eval/rouge.h) against google-research rouge_score 0.1.2 on every golden pair
// (tests/data/eval/metric_pairs.json), with and without the stemmer: rouge1, rouge2, rougeL and
// rougeLsum precision, recall and F-measure.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/rouge.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;
using testing::join;

TEST(Rouge, MatchesRougeScoreOnEveryGoldenPair) {
  const auto& goldens = golden("metric_pairs.json");
  const auto types = goldens["rouge_types"].get<std::vector<std::string>>();
  ASSERT_EQ(types, (std::vector<std::string>{"rouge1", "rouge2", "rougeL", "rougeLsum"}));
  for (const bool stemmer : {false, true}) {
    const RougeScorer rouge(stemmer);
    double max_difference = 0;
    for (const auto& pair : goldens["pairs"]) {
      const std::string reference = pair["reference"].get<std::string>();
      const std::string prediction = pair["prediction"].get<std::string>();
      const RougeScores scores = rouge.score(reference, prediction);
      const RougeScore* by_type[] = {&scores.rouge1, &scores.rouge2, &scores.rougeL, &scores.rougeLsum};
      const auto& expected = pair[stemmer ? "rouge_stemmed" : "rouge"];
      for (size_t t = 0; t < 4; ++t) {
        const double actual[3] = {by_type[t]->precision, by_type[t]->recall, by_type[t]->fmeasure};
        for (size_t k = 0; k < 3; ++k) {
          const double want = expected[t][k].get<double>();
          max_difference = std::max(max_difference, std::abs(actual[k] - want));
          EXPECT_NEAR(actual[k], want, 1e-6) << types[t] << (stemmer ? " (stemmer)" : "") << " [P, R, F][" << k
                                             << "]\n  reference:  " << reference << "\n  prediction: " << prediction;
        }
      }
    }
    std::printf("[ info ] rouge%s: max |ours - rouge_score| = %.3g\n", stemmer ? " (stemmer)" : "", max_difference);
  }
}

TEST(Rouge, RougeScoreReadmeExample) {
  // rouge_scorer's docstring pair, values printed by rouge_score 0.1.2.
  const RougeScores s =
      RougeScorer(true).score("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log.");
  EXPECT_DOUBLE_EQ(s.rouge1.precision, 0.75);
  EXPECT_DOUBLE_EQ(s.rouge1.fmeasure, 0.7058823529411765);
  EXPECT_DOUBLE_EQ(s.rouge2.fmeasure, 0.26666666666666666);
  EXPECT_DOUBLE_EQ(s.rougeL.precision, 0.625);
  EXPECT_DOUBLE_EQ(s.rougeL.recall, 0.5555555555555556);
  EXPECT_DOUBLE_EQ(s.rougeL.fmeasure, 0.5882352941176471);
}

TEST(Rouge, Tokenizer) {
  EXPECT_EQ(rouge_tokenize("Don't lock-your ELBOWS, 2x!", false),
            (std::vector<std::string>{"don", "t", "lock", "your", "elbows", "2x"}));
  EXPECT_EQ(rouge_tokenize("bending knees quickly", true), (std::vector<std::string>{"bend", "knee", "quickli"}));
  EXPECT_EQ(rouge_tokenize("the cat is", true),
            (std::vector<std::string>{"the", "cat", "is"}));  // <= 3 letters: not stemmed
  // Only ASCII letters and digits survive; U+0130 lowercases to "i" + a combining dot, U+212A to "k".
  EXPECT_EQ(rouge_tokenize("caf\xC3\xA9 \xC4\xB0x \xE2\x84\xAAm", false),
            (std::vector<std::string>{"caf", "i", "x", "km"}));
  EXPECT_TRUE(rouge_tokenize(" -- ", false).empty());
}

TEST(Rouge, EmptySidesScoreZero) {
  const RougeScorer rouge;
  for (const auto& [a, b] :
       std::vector<std::pair<std::string, std::string>>{{"", ""}, {"squats", ""}, {"", "squats"}, {"!!", "?"}}) {
    const RougeScores s = rouge.score(a, b);
    EXPECT_EQ(s.rougeL.fmeasure, 0.0);
    EXPECT_EQ(s.rouge1.fmeasure, 0.0);
    EXPECT_EQ(s.rougeLsum.fmeasure, 0.0);
  }
  EXPECT_EQ(rouge.rouge_l("keep going", "keep going").fmeasure, 1.0);
}

TEST(Rouge, SummaryLevelLcsUsesLines) {
  const RougeScorer rouge;
  // One line each: rougeLsum equals rougeL.
  const RougeScores one = rouge.score("a b c d", "a c b d");
  EXPECT_DOUBLE_EQ(one.rougeLsum.fmeasure, one.rougeL.fmeasure);
  // Lines in another order: the union LCS over lines finds every token again.
  const RougeScore lines = rouge.rouge_lsum("keep back straight\nbend knees", "bend knees\nkeep back straight");
  EXPECT_DOUBLE_EQ(lines.fmeasure, 1.0);
  EXPECT_LT(rouge.rouge_l("keep back straight\nbend knees", "bend knees\nkeep back straight").fmeasure, 1.0);
}

}  // namespace
}  // namespace vg::eval
