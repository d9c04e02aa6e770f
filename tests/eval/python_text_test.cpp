// Python str semantics (src/eval/python_text.h) against CPython's own tables, dumped by
// tools/reference/make_metric_goldens.py into tests/data/eval/python_text.json: every code point.
#include <gtest/gtest.h>

#include "eval/python_text.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::golden;

// Checks a predicate against a list of [first, last] ranges over all of Unicode.
template <class Predicate>
void expect_ranges(const nlohmann::json& ranges, Predicate predicate, const char* what) {
  std::vector<bool> expected(0x110000, false);
  for (const auto& range : ranges)
    for (uint32_t cp = range[0].get<uint32_t>(); cp <= range[1].get<uint32_t>(); ++cp) expected[cp] = true;
  int mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (predicate(cp) != expected[cp] && ++mismatches <= 5)
      ADD_FAILURE() << what << " differs from Python at U+" << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_EQ(mismatches, 0) << what;
}

TEST(PythonText, CharacterClassesMatchCPythonOnEveryCodePoint) {
  const auto& tables = golden("python_text.json");
  expect_ranges(tables["word"], is_py_word, "re \\w");
  expect_ranges(tables["decimal"], is_py_decimal, "re \\d");
  expect_ranges(tables["space"], is_py_space, "re \\s");
  expect_ranges(tables["isspace"], is_py_space, "str.isspace");
  expect_ranges(tables["isupper"], is_py_upper, "str.isupper");
  expect_ranges(tables["islower"], is_py_lower, "str.islower");
}

TEST(PythonText, LowerMatchesCPythonOnEveryCodePoint) {
  const auto& tables = golden("python_text.json");
  std::vector<std::u32string> expected(0x110000);
  for (char32_t cp = 0; cp < 0x110000; ++cp) expected[cp] = std::u32string(1, cp);
  for (const auto& entry : tables["lower"]) {
    std::u32string lowered;
    for (const auto& c : entry[1]) lowered.push_back(c.get<char32_t>());
    expected[entry[0].get<uint32_t>()] = lowered;
  }
  int mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    // A lone capital sigma is not at the end of a word: it lowercases to the ordinary sigma.
    if (py_lower(std::u32string(1, cp)) != expected[cp] && ++mismatches <= 5)
      ADD_FAILURE() << "str.lower differs at U+" << std::hex << static_cast<uint32_t>(cp);
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(PythonText, FinalSigmaContextMatchesCPythonOnEveryCodePoint) {
  const auto& tables = golden("python_text.json");
  // The sigma is the last character, or the second (U+0130 lowercases to two characters).
  const auto last_is_final = [](const std::u32string& text) { return py_lower(text).back() == U'\u03c2'; };
  expect_ranges(
      tables["sigma_after_c"],
      [&](char32_t c) {
        return last_is_final({c, U'\u03a3'});
      },
      "lower(c + sigma)");
  expect_ranges(
      tables["sigma_after_a_c"],
      [&](char32_t c) {
        return last_is_final({U'A', c, U'\u03a3'});
      },
      "lower(A + c + sigma)");
  expect_ranges(
      tables["sigma_before_c"],
      [&](char32_t c) {
        return py_lower(std::u32string{U'A', U'\u03a3', c})[1] == U'\u03c2';
      },
      "lower(A + sigma + c)");
}

TEST(PythonText, FinalSigmaInWords) {
  for (const auto& entry : golden("python_text.json")["lower_strings"])
    EXPECT_EQ(py_lower_utf8(entry[0].get<std::string>()), entry[1].get<std::string>()) << entry[0];
}

TEST(PythonText, IgnoreCaseEquivalencesMatchCPython) {
  const auto& ignorecase = golden("python_text.json")["ignorecase"];
  for (char letter = 'a'; letter <= 'z'; ++letter) {
    std::vector<char32_t> expected;
    for (const auto& cp : ignorecase[std::string(1, letter)]) expected.push_back(cp.get<char32_t>());
    std::vector<char32_t> actual;
    for (char32_t cp = 0; cp < 0x110000; ++cp)
      if (py_ignorecase_equals(cp, letter)) actual.push_back(cp);
    EXPECT_EQ(actual, expected) << "(?i)" << letter;
  }
}

TEST(PythonText, SplitAndUtf8) {
  const std::vector<std::u32string> pieces = py_split(U"\u00a0 a\tb\u2003\u3000c\n");
  EXPECT_EQ(pieces, (std::vector<std::u32string>{U"a", U"b", U"c"}));
  EXPECT_TRUE(py_split(U" \t\n").empty());
  EXPECT_EQ(encode_utf8(decode_utf8("caf\xC3\xA9 \xF0\x9F\x98\x80")), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(decode_utf8("a\xFF"
                        "b"),
            U"a\uFFFDb");                                           // invalid bytes read as U+FFFD
  EXPECT_EQ(py_lower_utf8("\xC4\xB0stanbul"), "i\xCC\x87stanbul");  // U+0130 -> "i" + U+0307
}

}  // namespace
}  // namespace vg::eval
