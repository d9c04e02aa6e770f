// `videogemma eval` end to end on the tiny model of the real architecture and synthetic clips:
// the JSON summary agrees with the per-sample report, the baseline is scored, the Markdown
// report is written, BERTScore is added on request, and bad flags are errors naming the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/cli_runner.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/vlm_fixtures.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::last_json;
using testing::run_cli;

class CliEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchFolder();
    model_ = testing::write_tiny_vlm(dir_->file("model"), 3, /*with_projectors=*/true);
    data_ = testing::write_tiny_qved(dir_->file("data"), 10);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string base() { return "eval --model " + model_ + " --datasets " + data_ + " --max-new-tokens 3"; }

  static testing::ScratchFolder* dir_;
  static std::string model_, data_;
};
testing::ScratchFolder* CliEval::dir_ = nullptr;
std::string CliEval::model_, CliEval::data_;

TEST_F(CliEval, ScoresTheSplitAndTheMajorityBaseline) {
  const std::string report = dir_->file("report.json"), markdown = dir_->file("report.md");
  const CliRun r = run_cli(base() + " --data QVED_TEST --majority-from QVED_TRAIN --batch-size 3 --json --report-json " +
                           report + " --report-md " + markdown);
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json summary = last_json(r);
  // write_tiny_qved puts records 4 and 9 (i % 5 == 4) in the test split: one dark, one bright.
  EXPECT_EQ(summary["overall"]["samples"], 2);
  EXPECT_FALSE(summary.contains("samples")) << "the printed summary leaves the samples to the report";
  EXPECT_GT(summary["generated_tokens"].get<int>(), 0);
  // The training split has three bright and three dark clips; the first seen (bright, record 0)
  // wins the tie, so the baseline gets the bright test clip right and the dark one wrong.
  const nlohmann::json& baseline = summary["baseline"]["overall"];
  EXPECT_EQ(baseline["exercise_accuracy"], 0.5);
  EXPECT_EQ(baseline["samples"], 2);

  std::ifstream in(report);
  const nlohmann::json full = nlohmann::json::parse(in);
  ASSERT_EQ(full["samples"].size(), 2u);
  double rouge = 0;
  int correct = 0;
  for (const nlohmann::json& s : full["samples"]) {
    rouge += s["rouge_l"].get<double>();
    correct += s["exercise_correct"].get<bool>() ? 1 : 0;
    EXPECT_EQ(s["generated_tokens"].get<int>() > 0, !s["prediction"].get<std::string>().empty());
  }
  EXPECT_NEAR(full["overall"]["rouge_l"].get<double>(), rouge / 2, 1e-12);
  EXPECT_EQ(full["overall"]["exercise_correct"], correct);
  EXPECT_TRUE(std::filesystem::exists(markdown));
}

TEST_F(CliEval, AddsBertScoreWithABertModel) {
  const CliRun r = run_cli(base() + " --data QVED_TEST --no-meteor --json --bertscore-model " +
                           testing::test_data_path("eval/bert_tiny"));
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::json summary = last_json(r);
  ASSERT_TRUE(summary["overall"].contains("bertscore_f1")) << summary.dump();
  EXPECT_EQ(summary["overall"]["meteor"], 0.0);

  // With the baseline file, the last layer's row (3: F 0.363) rescales each sample's F1 as
  // (F - b) / (1 - b), so the mean moves the same way (up to the float32 rounding of the scores;
  // another layer's row would be 0.015 or more away).
  const CliRun rescaled = run_cli(base() + " --data QVED_TEST --no-meteor --json --bertscore-model " +
                                  testing::test_data_path("eval/bert_tiny") + " --bertscore-baseline " +
                                  testing::test_data_path("eval/bert_tiny/rescale_baseline.tsv"));
  ASSERT_EQ(rescaled.status, 0) << rescaled.output;
  const double raw = summary["overall"]["bertscore_f1"].get<double>();
  EXPECT_NEAR(testing::last_json(rescaled)["overall"]["bertscore_f1"].get<double>(), (raw - 0.363) / (1 - 0.363), 1e-6);
}

TEST_F(CliEval, BadFlagsNameTheProblem) {
  struct Case {
    std::string args, message;
  };
  for (const Case& c : {Case{base() + " --exercise-rule v3", "--exercise-rule"},
                        Case{base() + " --data NO_SUCH_SPLIT", "NO_SUCH_SPLIT"},
                        Case{base() + " --bertscore-idf", "--bertscore-model"},
                        Case{base() + " --bertscore-model " + dir_->file("nothing"), "nothing"},
                        Case{"eval --model " + dir_->file("missing.json") + " --datasets " + data_, "missing.json"},
                        Case{base() + " --batch-size 0", "batch-size"}}) {
    const CliRun r = run_cli(c.args);
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace vg
