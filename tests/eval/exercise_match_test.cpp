// Exercise identification (src/eval/exercise_match.h) against the reference report's rules, run
// in Python on every golden pair (tests/data/eval/metric_pairs.json), and hand-checked cases.
#include <gtest/gtest.h>

#include "eval/exercise_match.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;

TEST(ExerciseMatch, MatchesTheReportOnEveryGoldenPair) {
  for (const auto& pair : golden("metric_pairs.json")["pairs"]) {
    const std::string reference = pair["reference"].get<std::string>();
    const std::string prediction = pair["prediction"].get<std::string>();
    for (const auto& [key, rule] :
         {std::pair{"exercise_v1", ExerciseRule::kV1}, std::pair{"exercise_v2", ExerciseRule::kV2}}) {
      const auto& expected = pair[key];
      EXPECT_EQ(exercise_name(reference, rule), expected[0].get<std::string>()) << key << ": " << reference;
      EXPECT_EQ(exercise_name(prediction, rule), expected[1].get<std::string>()) << key << ": " << prediction;
      EXPECT_EQ(exercise_matches(reference, prediction, rule), expected[2].get<bool>())
          << key << "\n  " << reference << "\n  " << prediction;
    }
    EXPECT_EQ(feedback_portion(reference), pair["feedback_v2"][0].get<std::string>()) << reference;
    EXPECT_EQ(feedback_portion(prediction), pair["feedback_v2"][1].get<std::string>()) << prediction;
  }
}

TEST(ExerciseMatch, HandCheckedCases) {
  EXPECT_EQ(exercise_name("  Squats - Push your knees out."), "squats");
  EXPECT_TRUE(exercise_matches("squats - a", "SQUATS-b"));
  EXPECT_FALSE(exercise_matches("squats - a", "lunges - a"));
  EXPECT_FALSE(exercise_matches("", ""));  // an empty name never matches
  EXPECT_FALSE(exercise_matches("- a", "- b"));
  // v1 cuts at the first dash, so dashed names collapse: "cat-cow_pose" reads as "cat".
  EXPECT_EQ(exercise_name("cat-cow_pose - arch your back"), "cat");
  EXPECT_TRUE(exercise_matches("cat-cow_pose - a", "cat - b"));
  // v2 prefers " - " and knows "mountain-climbers".
  EXPECT_EQ(exercise_name("cat-cow_pose - arch your back", ExerciseRule::kV2), "cat-cow_pose");
  EXPECT_EQ(exercise_name("Mountain-Climbers- keep hips low", ExerciseRule::kV2), "mountain-climbers");
  EXPECT_EQ(split_exercise_feedback("Mountain-Climbers- keep hips low").feedback, "keep hips low");
  EXPECT_EQ(exercise_name("push-ups-keep going", ExerciseRule::kV2), "push");
  EXPECT_EQ(split_exercise_feedback("squats").feedback, "");
  EXPECT_EQ(feedback_portion("squats - keep going\nlunges - bend\nno dash here"), "keep going\nbend\nno dash here");
  EXPECT_EQ(feedback_portion("no dash at all"), "");
}

}  // namespace
}  // namespace vg::eval
