// Exercise identification of the reference report (spec §6, EdgeVLM-Labs
// mobile-videogpt-adaptation): answers read "<exercise> - <feedback>", and a prediction counts
// as correct when its exercise name equals the ground truth's.
//
// v1 (utils/generate_test_report.py): name = text.split('-')[0].strip().lower().
// v2 (utils/inference/generate_test_report.py): _split_exercise_feedback: a text starting
//   (after strip, case-insensitively) with a dash-containing exercise name ("mountain-climbers")
//   takes that name; otherwise split on the first " - ", else on the first "-"; both parts
//   strip()ped; the name is then lowercased.
// Both: an empty name on either side is a mismatch. strip() and lower() are Python's (Unicode
// whitespace, full lowercase mapping).
#pragma once

#include <string>
#include <string_view>

namespace vg::eval {

enum class ExerciseRule { kV1, kV2 };

// The v2 split, before lowercasing: {exercise, feedback}; feedback is empty when there is no dash.
struct ExerciseFeedback {
  std::string exercise;
  std::string feedback;
};
ExerciseFeedback split_exercise_feedback(std::string_view text);

// extract_exercise_name under a rule (lowercased).
std::string exercise_name(std::string_view text, ExerciseRule rule = ExerciseRule::kV1);

// check_exercise_match(ground_truth, prediction).
bool exercise_matches(std::string_view ground_truth, std::string_view prediction,
                      ExerciseRule rule = ExerciseRule::kV1);

// v2's extract_feedback_portion (the "Feedback Only" column): per non-empty stripped line, the
// feedback after the exercise dash, or the whole line when it has none; joined with "\n". Empty
// when no line has a feedback part (the report then falls back to the full text).
std::string feedback_portion(std::string_view text);

}  // namespace vg::eval
