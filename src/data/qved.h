// The QVED conventions (specs/mobile-videogpt-reference.md §3.2, §6): the evaluation prompt the
// reference trains and evaluates with, answers written "<exercise> - <feedback>", and how an
// answer splits back into its parts.
#pragma once

#include <string>

namespace vg::data {

// The reference's evaluation prompt (QVED records carry it without a <video> tag).
inline constexpr const char* kQvedPrompt =
    "Please evaluate the exercise form shown. What mistakes, if any, are present, and what corrections would you "
    "recommend?";

// "squats - Push your knees out over your toes."
std::string qved_answer(const std::string& exercise, const std::string& feedback);

struct AnswerParts {
  std::string exercise;  // before the first " - " (else the first "-"), trimmed; "" if none
  std::string feedback;  // after it, trimmed
};
AnswerParts split_answer(const std::string& answer);

}  // namespace vg::data
