// Scoring a split: per-sample metrics, the synthetic form label, the majority baseline, the
// per-exercise summary and the reports, on hand-written answers whose scores are known.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/eval_report.h"
#include "eval/evaluator.h"
#include "eval/form_match.h"

namespace vg::eval {
namespace {

EvalSample sample(const std::string& reference, const std::string& prediction) {
  EvalSample s;
  s.id = "clip" + std::to_string(reference.size());
  s.reference = reference;
  s.prediction = prediction;
  return s;
}

MetricOptions without_meteor() {
  MetricOptions o;
  o.meteor = false;  // METEOR has its own goldens; these tests need no WordNet
  return o;
}

TEST(FormMatch, SyntheticAnswersNameTheirVariant) {
  const auto truth = synthetic_form_of_answer("squats - Push your knees out over your toes.");
  ASSERT_TRUE(truth);
  EXPECT_EQ(truth->key(), "squats/knees_caving_in");
  EXPECT_EQ(synthetic_form_of_answer("glutes bridge - Great form, keep it up.")->key(), "glutes_bridge/good_form");
  // Not synthetic: another feedback sentence, an unknown exercise, no dash.
  EXPECT_FALSE(synthetic_form_of_answer("squats - Push your knees out."));
  EXPECT_FALSE(synthetic_form_of_answer("burpees - Great form, keep it up."));
  EXPECT_FALSE(synthetic_form_of_answer("Great form, keep it up."));
}

TEST(FormMatch, PredictionsNameTheNearestFeedbackOfTheirExercise) {
  // A paraphrase close to one sentence (ROUGE-L F well above 0.5) names it.
  EXPECT_EQ(synthetic_form_of_prediction("Squats - push the knees out over the toes")->key(), "squats/knees_caving_in");
  EXPECT_EQ(synthetic_form_of_prediction("squats - Great form, keep it up.")->key(), "squats/good_form");
  // Unrelated feedback, an unknown exercise or no feedback name nothing.
  EXPECT_FALSE(synthetic_form_of_prediction("squats - the weather is nice today"));
  EXPECT_FALSE(synthetic_form_of_prediction("burpees - Great form, keep it up."));
  EXPECT_FALSE(synthetic_form_of_prediction("squats"));
}

TEST(Evaluator, ScoresEachSampleAndSummarisesPerExercise) {
  std::vector<EvalSample> samples = {
      sample("squats - Push your knees out over your toes.", "squats - Push your knees out over your toes."),
      sample("squats - Sit deeper, thighs parallel to the floor.", "squats - Great form, keep it up."),
      sample("pushups - Great form, keep it up.", "lunges - Great form, keep it up."),
      sample("pushups - Lower your hips into one straight line.", ""),
  };
  score_samples(samples, without_meteor());
  EXPECT_DOUBLE_EQ(samples[0].rouge_l, 1.0);
  EXPECT_TRUE(samples[0].exercise_correct);
  EXPECT_TRUE(*samples[0].form_correct);
  EXPECT_TRUE(samples[1].exercise_correct);
  EXPECT_FALSE(*samples[1].form_correct);
  EXPECT_EQ(*samples[1].form_predicted, "squats/good_form");
  // "squats - great form keep it up" against "squats sit deeper thighs parallel to the floor":
  // only "squats" in common: P = 1/6, R = 1/8, F = 2PR / (P + R) = 1/7.
  EXPECT_NEAR(samples[1].rouge_l, 1.0 / 7, 1e-12);
  EXPECT_FALSE(samples[2].exercise_correct);
  EXPECT_EQ(samples[2].exercise_predicted, "lunges");
  EXPECT_FALSE(*samples[2].form_correct);
  EXPECT_EQ(samples[3].rouge_l, 0.0);
  EXPECT_FALSE(samples[3].exercise_correct);

  const EvalSummary summary = summarize(samples);
  EXPECT_EQ(summary.overall.samples, 4);
  EXPECT_EQ(summary.overall.exercise_correct, 2);
  EXPECT_DOUBLE_EQ(summary.overall.exercise_accuracy(), 0.5);
  // The last reference is not a synthetic answer, so form accuracy counts three samples.
  EXPECT_EQ(summary.overall.form_samples, 3);
  EXPECT_DOUBLE_EQ(*summary.overall.form_accuracy(), 1.0 / 3);
  EXPECT_NEAR(summary.overall.rouge_l, (1.0 + 1.0 / 7 + samples[2].rouge_l) / 4, 1e-12);
  ASSERT_EQ(summary.per_exercise.size(), 2u);
  EXPECT_EQ(summary.per_exercise.at("squats").exercise_correct, 2);
  EXPECT_EQ(summary.per_exercise.at("pushups").exercise_correct, 0);
  EXPECT_EQ(summary.per_exercise.at("pushups").samples, 2);
}

TEST(Evaluator, BertScoreHookFillsEverySample) {
  std::vector<EvalSample> samples = {sample("squats - a", "squats - a"), sample("lunges - b", "squats - b")};
  MetricOptions o = without_meteor();
  o.bertscore_f1 = [](const std::vector<std::string>& c, const std::vector<std::string>& r) {
    std::vector<double> f;
    for (size_t i = 0; i < c.size(); ++i) f.push_back(c[i] == r[i] ? 1.0 : 0.25);
    return f;
  };
  score_samples(samples, o);
  EXPECT_EQ(*samples[0].bertscore_f1, 1.0);
  EXPECT_EQ(*samples[1].bertscore_f1, 0.25);
  EXPECT_DOUBLE_EQ(*summarize(samples).overall.bertscore_f1, 0.625);
  o.bertscore_f1 = [](const std::vector<std::string>&, const std::vector<std::string>&) { return std::vector<double>{1}; };
  EXPECT_THROW(score_samples(samples, o), Error);
}

data::Record record(const std::string& answer) {
  data::Record r;
  r.id = "r" + std::to_string(answer.size());
  r.media_path = "clip.mp4";
  r.conversations = {{"human", "<video>\nHow is my form?"}, {"gpt", answer}};
  return r;
}

TEST(Evaluator, MajorityAnswerIsTheMostCommonTrainingAnswer) {
  data::Dataset train;
  train.name = "train";
  for (const char* a : {"lunges - x", "squats - y", "squats - y", "pushups - z", "lunges - x"}) train.records.push_back(record(a));
  train.records.push_back(record("squats - y"));
  EXPECT_EQ(majority_answer(train), "squats - y");
  const std::vector<EvalSample> guesses = constant_predictions(train, "squats - y", 4);
  ASSERT_EQ(guesses.size(), 4u);
  EXPECT_EQ(guesses[0].prediction, "squats - y");
  EXPECT_EQ(guesses[0].prompt, "How is my form?");  // the media tag is the template's job
  EXPECT_THROW(majority_answer(data::Dataset{}), Error);
}

TEST(EvalReport, MarkdownAndJsonCarryTheScores) {
  std::vector<EvalSample> samples = {
      sample("squats - Push your knees out over your toes.", "squats - Push your knees out over your toes."),
      sample("pushups - Great form, keep it up.", "lunges | Great form"),
  };
  score_samples(samples, without_meteor());
  const EvalRun run = make_run("trained", "model.json", "QVED_TEST", samples, 2.0);
  const nlohmann::json j = report_json(run);
  EXPECT_EQ(j["overall"]["samples"], 2);
  EXPECT_EQ(j["overall"]["exercise_accuracy"], 0.5);
  EXPECT_EQ(j["per_exercise"]["pushups"]["exercise_correct"], 0);
  EXPECT_EQ(j["samples"][1]["exercise_correct"], false);
  const std::string md = report_markdown(run);
  EXPECT_NE(md.find("| trained | 2 | 50.0% | 50.0% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| pushups | 1 | 0/1 (0.0%)"), std::string::npos) << md;
  EXPECT_NE(md.find("lunges \\| Great form"), std::string::npos) << md;  // a '|' cannot break the table
  EXPECT_EQ(md.find("| clip44 |"), std::string::npos) << "a correct answer is not listed as a miss";
}

}  // namespace
}  // namespace vg::eval
