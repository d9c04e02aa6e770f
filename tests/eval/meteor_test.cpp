// METEOR (src/eval/meteor.h) against NLTK 3.8's single_meteor_score on every golden pair
// (tests/data/eval/metric_pairs.json), for three tokenizations: the whole text as one sentence,
// untrained Punkt sentences, and Punkt with the test parameters; plus NLTK's alignment (which
// word matched which, so ties break the same way) and a hand-computed example. Needs wordnet-base.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/meteor.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::eval_data_dir;
using testing::golden;

MeteorScorer scorer(std::shared_ptr<const WordNet> wordnet, bool split,
                    std::shared_ptr<const PunktSentenceTokenizer> punkt) {
  MeteorOptions options;
  options.split_sentences = split;
  options.punkt = std::move(punkt);
  return MeteorScorer(std::move(wordnet), options);
}

TEST(Meteor, MatchesNltkOnEveryGoldenPair) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const auto test_parameters =
      std::make_shared<const PunktParameters>(PunktParameters::load(eval_data_dir() + "/punkt_test"));
  const struct {
    const char* key;
    MeteorScorer scorer;
  } variants[] = {
      {"meteor", scorer(wordnet, false, nullptr)},
      {"meteor_punkt_untrained", scorer(wordnet, true, std::make_shared<const PunktSentenceTokenizer>())},
      {"meteor_punkt_test", scorer(wordnet, true, std::make_shared<const PunktSentenceTokenizer>(test_parameters))},
  };
  const auto& pairs = golden("metric_pairs.json")["pairs"];
  ASSERT_GT(pairs.size(), 250u);
  for (const auto& variant : variants) {
    double max_difference = 0;
    for (const auto& pair : pairs) {
      const std::string reference = pair["reference"].get<std::string>();
      const std::string prediction = pair["prediction"].get<std::string>();
      const double expected = pair[variant.key].get<double>();
      const double actual = variant.scorer.score(reference, prediction);
      max_difference = std::max(max_difference, std::abs(actual - expected));
      EXPECT_NEAR(actual, expected, 1e-6)
          << variant.key << "\n  reference:  " << reference << "\n  prediction: " << prediction;
    }
    std::printf("[ info ] %s: max |ours - nltk| = %.3g over %zu pairs\n", variant.key, max_difference, pairs.size());
  }
}

TEST(Meteor, AlignmentMatchesNltk) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const MeteorScorer meteor = scorer(wordnet, false, nullptr);
  int mismatches = 0;
  for (const auto& pair : golden("metric_pairs.json")["pairs"]) {
    std::vector<std::pair<size_t, size_t>> expected;
    for (const auto& m : pair["meteor_matches"]) expected.emplace_back(m[0].get<size_t>(), m[1].get<size_t>());
    const auto breakdown = meteor.breakdown(meteor.tokenize(pair["reference"].get<std::string>()),
                                            meteor.tokenize(pair["prediction"].get<std::string>()));
    if (breakdown.alignment.matches != expected && ++mismatches <= 5)
      ADD_FAILURE() << "alignment differs for\n  " << pair["reference"] << "\n  " << pair["prediction"];
  }
  EXPECT_EQ(mismatches, 0);
}

// How far the splitter used without nltk_data is from evaluate's real one (English Punkt): reported, not asserted.
TEST(Meteor, DistanceFromEnglishPunkt) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const auto& pairs = golden("metric_pairs.json")["pairs"];
  if (!pairs[0].contains("meteor_punkt_english")) GTEST_SKIP() << "goldens made without --punkt";
  int differ_untrained = 0, differ_one_sentence = 0;
  double max_untrained = 0;
  for (const auto& pair : pairs) {
    const double english = pair["meteor_punkt_english"].get<double>();
    max_untrained = std::max(max_untrained, std::abs(pair["meteor_punkt_untrained"].get<double>() - english));
    differ_untrained += pair["meteor_punkt_untrained"].get<double>() != english;
    differ_one_sentence += pair["meteor"].get<double>() != english;
  }
  std::printf(
      "[ info ] evaluate's METEOR (English Punkt) differs on %d of %zu pairs with untrained Punkt (max %.3f), "
      "on %d without sentence splitting\n",
      differ_untrained, pairs.size(), max_untrained, differ_one_sentence);
}

// With NLTK's English Punkt parameters installed (nltk_data punkt_tab, or VG_PUNKT_DIR), the
// default scorer is evaluate's METEOR: check it against the goldens made with the real model.
TEST(Meteor, MatchesEvaluateWhenEnglishPunktIsInstalled) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const auto& pairs = golden("metric_pairs.json")["pairs"];
  if (!pairs[0].contains("meteor_punkt_english")) GTEST_SKIP() << "goldens made without --punkt";
  if (!find_english_punkt_folder()) GTEST_SKIP() << "no nltk_data tokenizers/punkt_tab/english on this machine";
  const MeteorScorer meteor(wordnet);  // PunktSentenceTokenizer::english()
  ASSERT_TRUE(meteor.sentence_splitter()->trained()) << meteor.sentence_splitter()->description();
  for (const auto& pair : pairs)
    EXPECT_NEAR(meteor.score(pair["reference"].get<std::string>(), pair["prediction"].get<std::string>()),
                pair["meteor_punkt_english"].get<double>(), 1e-6)
        << pair["reference"] << "\n"
        << pair["prediction"];
}

TEST(Meteor, HandComputedThreeWordExample) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const MeteorScorer meteor(wordnet);
  // hypothesis "quick lift knees", reference "lift knee fast": "lift" matches exactly, "knees"
  // by its stem "knee", "quick" by its WordNet synonym "fast".
  const MeteorBreakdown b = meteor.breakdown({"lift", "knee", "fast"}, {"quick", "lift", "knees"});
  EXPECT_EQ(b.alignment.exact_matches, 1u);
  EXPECT_EQ(b.alignment.stem_matches, 1u);
  EXPECT_EQ(b.alignment.synonym_matches, 1u);
  using Match = std::pair<size_t, size_t>;
  EXPECT_EQ(b.alignment.matches, (std::vector<Match>{{0, 2}, {1, 0}, {2, 1}}));
  // Two chunks: "quick" -> "fast" alone, then "lift knees" -> "lift knee" in order.
  EXPECT_EQ(b.alignment.chunks, 2u);
  EXPECT_EQ(b.precision, 1.0);
  EXPECT_EQ(b.recall, 1.0);
  const double fmean = 1.0 / (0.9 * 1.0 + (1 - 0.9) * 1.0);
  const double penalty = 0.5 * std::pow(2.0 / 3.0, 3.0);  // gamma * (chunks / matches)^beta
  EXPECT_DOUBLE_EQ(b.penalty, penalty);
  EXPECT_DOUBLE_EQ(b.score, (1 - penalty) * fmean);
  EXPECT_NEAR(b.score, 23.0 / 27.0, 1e-15);
}

TEST(Meteor, NoMatchOrEmptyScoresZero) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const MeteorScorer meteor(wordnet);
  EXPECT_EQ(meteor.score_tokens({"this", "is", "a", "cat"}, {"non", "matching", "hypothesis"}), 0.0);  // NLTK doctest
  EXPECT_EQ(meteor.score("", ""), 0.0);
  EXPECT_EQ(meteor.score("squats", ""), 0.0);
  EXPECT_EQ(meteor.score("", "squats"), 0.0);
  EXPECT_EQ(meteor.score_tokens({"Same"}, {"same"}), 1.0 - 0.5);  // one chunk of one match: penalty 0.5
}

TEST(Meteor, NltkDoctestAndMultipleReferences) {
  const auto wordnet = testing::wordnet_or_fail();
  if (!wordnet) return;
  const MeteorScorer meteor(wordnet);
  const std::vector<std::string> hypothesis = {"It",    "is",      "a",        "guide", "to",       "action",
                                               "which", "ensures", "that",     "the",   "military", "always",
                                               "obeys", "the",     "commands", "of",    "the",      "party"};
  const std::vector<std::string> reference = {"It",      "is",      "a",     "guide",   "to",       "action",
                                              "that",    "ensures", "that",  "the",     "military", "will",
                                              "forever", "heed",    "Party", "commands"};
  EXPECT_NEAR(meteor.score_tokens(reference, hypothesis), 0.6944, 5e-5);  // round(..., 4) in NLTK's docstring
  const double single = meteor.score("Keep your back straight.", "keep the back straight");
  EXPECT_EQ(meteor.score_multi({"Bend your knees.", "Keep your back straight."}, "keep the back straight"), single);
  EXPECT_EQ(meteor.score_multi({}, "keep"), 0.0);
}

}  // namespace
}  // namespace vg::eval
