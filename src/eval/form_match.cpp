#include "eval/form_match.h"

#include "data/qved.h"
#include "data/synth/exercises.h"
#include "eval/python_text.h"
#include "eval/rouge.h"

namespace vg::eval {
namespace {

// The catalog exercise whose answer name equals `name` (case-insensitively), if any.
const synth::ExerciseInfo* exercise_named(const std::string& name) {
  const std::string wanted = py_lower_utf8(name);
  for (const synth::ExerciseInfo& info : synth::exercise_catalog()) {
    if (info.name == wanted) return &info;
  }
  return nullptr;
}

}  // namespace

std::optional<FormLabel> synthetic_form_of_answer(const std::string& answer) {
  const data::AnswerParts parts = data::split_answer(answer);
  const synth::ExerciseInfo* info = exercise_named(parts.exercise);
  if (info == nullptr) return std::nullopt;
  for (const synth::FormVariant& v : info->variants) {
    if (v.feedback == parts.feedback) return FormLabel{info->id, v.id};
  }
  return std::nullopt;
}

std::optional<FormLabel> synthetic_form_of_prediction(const std::string& prediction) {
  const data::AnswerParts parts = data::split_answer(prediction);
  const synth::ExerciseInfo* info = exercise_named(parts.exercise);
  if (info == nullptr || parts.feedback.empty()) return std::nullopt;
  const RougeScorer rouge;
  const synth::FormVariant* best = nullptr;
  double best_f = kMinFormSimilarity;
  for (const synth::FormVariant& v : info->variants) {
    const double f = rouge.rouge_l(v.feedback, parts.feedback).fmeasure;
    if (f >= best_f && (best == nullptr || f > best_f)) best = &v, best_f = f;
  }
  if (best == nullptr) return std::nullopt;
  return FormLabel{info->id, best->id};
}

}  // namespace vg::eval
