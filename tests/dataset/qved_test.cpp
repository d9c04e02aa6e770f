// QVED answer formatting and splitting.
#include <gtest/gtest.h>

#include "data/qved.h"

namespace vg::data {
namespace {

TEST(Qved, AnswersSplitBackIntoExerciseAndFeedback) {
  const std::string a = qved_answer("squats", "Push your knees out over your toes.");
  EXPECT_EQ(a, "squats - Push your knees out over your toes.");
  EXPECT_EQ(split_answer(a).exercise, "squats");
  EXPECT_EQ(split_answer(a).feedback, "Push your knees out over your toes.");
  // The first " - " separates, even when the feedback holds another.
  EXPECT_EQ(split_answer("glutes bridge - Lift higher - squeeze at the top.").feedback, "Lift higher - squeeze at the top.");
  // Without " - ", the first "-" (the reference's fallback); without any, all feedback.
  EXPECT_EQ(split_answer("pushups-Keep your hips up").exercise, "pushups");
  EXPECT_EQ(split_answer("  Keep going  ").exercise, "");
  EXPECT_EQ(split_answer("  Keep going  ").feedback, "Keep going");
  EXPECT_EQ(split_answer("").feedback, "");
}

}  // namespace
}  // namespace vg::data
