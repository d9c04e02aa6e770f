#include "data/qved.h"

namespace vg::data {
namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

}  // namespace

std::string qved_answer(const std::string& exercise, const std::string& feedback) { return exercise + " - " + feedback; }

AnswerParts split_answer(const std::string& answer) {
  size_t at = answer.find(" - ");
  size_t width = 3;
  if (at == std::string::npos) {
    at = answer.find('-');
    width = 1;
  }
  if (at == std::string::npos) return {"", trim(answer)};
  return {trim(answer.substr(0, at)), trim(answer.substr(at + width))};
}

}  // namespace vg::data
