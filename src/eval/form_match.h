// Form-error accuracy on synthetic data (`videogemma synth`): every synthetic answer is
// "<exercise> - <feedback>" with one fixed feedback sentence per form variant, so an answer
// names a variant. A prediction names the variant of its exercise whose feedback sentence is
// nearest to its own feedback part (ROUGE-L F-measure, at least kMinFormSimilarity); a prediction
// whose exercise is wrong, or whose feedback is near none, names no variant.
#pragma once

#include <optional>
#include <string>

namespace vg::eval {

inline constexpr double kMinFormSimilarity = 0.5;

struct FormLabel {
  std::string exercise;  // the synthetic exercise id, "squats"
  std::string variant;   // its variant id, "knees_caving_in"
  std::string key() const { return exercise + "/" + variant; }
};

// The variant a ground-truth synthetic answer states exactly; nullopt for other data.
std::optional<FormLabel> synthetic_form_of_answer(const std::string& answer);

// The variant a predicted answer names, by the nearest-feedback rule above; nullopt if none.
std::optional<FormLabel> synthetic_form_of_prediction(const std::string& prediction);

}  // namespace vg::eval
