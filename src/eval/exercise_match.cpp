// Exercise identification rules of the reference report; see exercise_match.h.
#include "eval/exercise_match.h"

#include <vector>

#include "eval/python_text.h"

namespace vg::eval {
namespace {

// The v2 report's DASH_CONTAIN_EXERCISES.
constexpr std::u32string_view kDashContainingExercises[] = {U"mountain-climbers"};

// str.strip() with no arguments.
std::u32string_view py_strip(std::u32string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end && is_py_space(s[begin])) ++begin;
  while (end > begin && is_py_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

bool starts_with(std::u32string_view s, std::u32string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string utf8(std::u32string_view s) { return encode_utf8(s); }

}  // namespace

ExerciseFeedback split_exercise_feedback(std::string_view text_utf8) {
  if (text_utf8.empty()) return {};
  const std::u32string text = decode_utf8(text_utf8);
  const std::u32string_view stripped = py_strip(text);
  const std::u32string lowered = py_lower(stripped);
  for (std::u32string_view exercise : kDashContainingExercises) {
    if (!starts_with(lowered, exercise)) continue;
    // rest = text.strip()[len(exercise):]
    const std::u32string_view rest = stripped.substr(std::min(exercise.size(), stripped.size()));
    for (std::u32string_view separator : {std::u32string_view(U" - "), std::u32string_view(U" -"),
                                          std::u32string_view(U"- "), std::u32string_view(U"-")})
      if (starts_with(rest, separator)) return {utf8(exercise), utf8(py_strip(rest.substr(separator.size())))};
    return {utf8(exercise), ""};
  }
  const std::u32string_view whole(text);
  for (std::u32string_view separator : {std::u32string_view(U" - "), std::u32string_view(U"-")}) {
    const size_t at = whole.find(separator);
    if (at != std::u32string_view::npos)
      return {utf8(py_strip(whole.substr(0, at))), utf8(py_strip(whole.substr(at + separator.size())))};
  }
  return {utf8(stripped), ""};
}

std::string exercise_name(std::string_view text, ExerciseRule rule) {
  if (rule == ExerciseRule::kV2) return py_lower_utf8(split_exercise_feedback(text).exercise);
  // v1: text.split('-')[0].strip().lower() (the whole text when it has no dash).
  const std::u32string decoded = decode_utf8(text);
  const std::u32string_view whole(decoded);
  return encode_utf8(py_lower(py_strip(whole.substr(0, whole.find(U'-')))));
}

bool exercise_matches(std::string_view ground_truth, std::string_view prediction, ExerciseRule rule) {
  const std::string truth = exercise_name(ground_truth, rule);
  const std::string predicted = exercise_name(prediction, rule);
  return !truth.empty() && !predicted.empty() && truth == predicted;
}

std::string feedback_portion(std::string_view text_utf8) {
  if (text_utf8.empty()) return "";
  const std::u32string text = decode_utf8(text_utf8);
  const std::u32string_view stripped = py_strip(text);
  std::vector<std::string> parts;
  bool has_feedback = false;
  size_t start = 0;
  while (start <= stripped.size()) {
    size_t end = stripped.find(U'\n', start);
    if (end == std::u32string_view::npos) end = stripped.size();
    const std::u32string_view line = py_strip(stripped.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    const std::string line_utf8 = encode_utf8(line);
    ExerciseFeedback split = split_exercise_feedback(line_utf8);
    if (!split.feedback.empty()) {
      has_feedback = true;
      parts.push_back(std::move(split.feedback));
    } else {
      parts.push_back(line_utf8);
    }
  }
  if (!has_feedback) return "";
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) joined += (i ? "\n" : "") + parts[i];
  return joined;
}

}  // namespace vg::eval
