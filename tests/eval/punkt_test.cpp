// Punkt sentence splitting (src/eval/punkt.h) against NLTK 3.8's PunktSentenceTokenizer
// (tests/data/eval/punkt.json): untrained, and with the made-up test parameters of
// tests/data/eval/punkt_test/ (punkt_tab layout) that reach the collocation, abbreviation,
// sentence-starter, initial and number heuristics.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "eval/punkt.h"
#include "eval/python_text.h"
#include "eval_testing.h"

namespace vg::eval {
namespace {

using testing::eval_data_dir;
using testing::golden;
using Spans = std::vector<std::pair<size_t, size_t>>;

Spans spans(const nlohmann::json& array) {
  Spans out;
  for (const auto& span : array) out.emplace_back(span[0].get<size_t>(), span[1].get<size_t>());
  return out;
}

std::string show(const Spans& s) {
  std::ostringstream out;
  for (const auto& [b, e] : s) out << "(" << b << "," << e << ")";
  return out.str();
}

void expect_goldens(const PunktSentenceTokenizer& tokenizer, int column) {
  const auto& cases = golden("punkt.json")["cases"];
  ASSERT_GT(cases.size(), 500u);
  int mismatches = 0;
  for (const auto& c : cases) {
    const std::string text = c[0].get<std::string>();
    const Spans expected = spans(c[column]);
    const Spans actual = tokenizer.span_tokenize(decode_utf8(text));
    if (actual != expected && ++mismatches <= 10)
      ADD_FAILURE() << tokenizer.description() << ": " << nlohmann::json(text).dump() << "\n  nltk: " << show(expected)
                    << "\n  ours: " << show(actual);
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " texts";
}

TEST(Punkt, UntrainedMatchesNltk) { expect_goldens(PunktSentenceTokenizer(), 1); }

TEST(Punkt, TestParametersMatchNltk) {
  auto parameters = std::make_shared<const PunktParameters>(PunktParameters::load(eval_data_dir() + "/punkt_test"));
  EXPECT_TRUE(parameters->abbrev_types.count("reps"));
  EXPECT_TRUE(parameters->collocations.count({"##number##", "reps"}));
  EXPECT_EQ(parameters->ortho_context.at("then"), 2 | 32);
  expect_goldens(PunktSentenceTokenizer(parameters, "test parameters"), 2);
}

TEST(Punkt, HandCheckedExamples) {
  const PunktSentenceTokenizer untrained;
  EXPECT_EQ(untrained.tokenize(std::string_view("Bend your knees. Keep going! Ok?")),
            (std::vector<std::string>{"Bend your knees.", "Keep going!", "Ok?"}));
  // Closing brackets and quotes after the period stay with the sentence (realign_boundaries).
  EXPECT_EQ(untrained.tokenize(std::string_view("(Sent1.) Sent2.")), (std::vector<std::string>{"(Sent1.)", "Sent2."}));
  // A number followed by a lowercase word is not a sentence end, even untrained.
  EXPECT_EQ(untrained.tokenize(std::string_view("Do 12. reps now.")), (std::vector<std::string>{"Do 12. reps now."}));
  EXPECT_TRUE(untrained.tokenize(std::string_view("   ")).empty());
  EXPECT_FALSE(untrained.trained());
}

TEST(Punkt, MissingParametersAreClearErrors) {
  try {
    PunktParameters::load("/nonexistent/punkt_tab/english");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.component(), "eval");
    EXPECT_NE(e.message().find("/nonexistent/punkt_tab/english"), std::string::npos) << e.what();
  }
  const std::string empty = (std::filesystem::temp_directory_path() / "vg_punkt_empty").string();
  std::filesystem::create_directories(empty);
  EXPECT_THROW(PunktParameters::load(empty), Error);
  std::filesystem::remove_all(empty);
}

TEST(Punkt, FindsTheEnglishFolderThroughTheEnvironment) {
  ::setenv("VG_PUNKT_DIR", (eval_data_dir() + "/punkt_test").c_str(), 1);
  EXPECT_EQ(find_english_punkt_folder(), eval_data_dir() + "/punkt_test");
  ::setenv("VG_PUNKT_DIR", "/nonexistent/punkt", 1);
  EXPECT_THROW(find_english_punkt_folder(), Error);
  ::unsetenv("VG_PUNKT_DIR");
}

}  // namespace
}  // namespace vg::eval
