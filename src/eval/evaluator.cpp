#include "eval/evaluator.h"

#include "core/error.h"
#include "eval/form_match.h"
#include "eval/meteor.h"
#include "eval/rouge.h"
#include "vlm/video_language_model.h"

namespace vg::eval {
namespace {

EvalSample sample_of(const data::Record& r) {
  EvalSample s;
  s.id = r.id;
  s.media = r.media_path;
  s.prompt = r.question();
  s.reference = r.answer();
  return s;
}

int64_t records_to_score(const data::Dataset& dataset, int64_t limit) {
  const auto n = static_cast<int64_t>(dataset.records.size());
  return limit > 0 ? std::min(limit, n) : n;
}

void add_to(GroupScores& g, const EvalSample& s) {
  ++g.samples;
  g.exercise_correct += s.exercise_correct ? 1 : 0;
  g.rouge_l += s.rouge_l;
  g.meteor += s.meteor;
  if (s.bertscore_f1) g.bertscore_f1 = g.bertscore_f1.value_or(0) + *s.bertscore_f1;
  if (s.form_correct) {
    ++g.form_samples;
    g.form_correct += *s.form_correct ? 1 : 0;
  }
}

void finish(GroupScores& g) {
  if (g.samples == 0) return;
  const auto n = static_cast<double>(g.samples);
  g.rouge_l /= n;
  g.meteor /= n;
  if (g.bertscore_f1) *g.bertscore_f1 /= n;
}

}  // namespace

std::vector<EvalSample> predict(const VideoLanguageModel& model, const data::Dataset& dataset,
                                const PredictOptions& options, const EvalProgress& progress) {
  VG_CHECK(options.batch_size >= 1, "eval", "the batch size must be at least 1, got ", options.batch_size);
  VG_CHECK(options.max_new_tokens >= 1, "eval", "max_new_tokens must be at least 1, got ", options.max_new_tokens);
  const int64_t n = records_to_score(dataset, options.limit);
  std::vector<EvalSample> samples;
  samples.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const data::Record& r = dataset.records[static_cast<size_t>(i)];
    VG_CHECK(!r.media_path.empty(), "eval", r.id, ": the record has no video or image to evaluate on");
    samples.push_back(sample_of(r));
  }
  GenerationOptions generation;
  generation.max_new_tokens = options.max_new_tokens;  // and greedy, GenerationOptions' default
  for (int64_t begin = 0; begin < n;) {
    // A batch: consecutive records with the same question, at most batch_size of them.
    int64_t end = begin + 1;
    while (end < n && end - begin < options.batch_size &&
           samples[static_cast<size_t>(end)].prompt == samples[static_cast<size_t>(begin)].prompt)
      ++end;
    std::vector<std::string> videos;
    for (int64_t i = begin; i < end; ++i) videos.push_back(samples[static_cast<size_t>(i)].media);
    const std::vector<GenerationResult> answers =
        model.answer(videos, samples[static_cast<size_t>(begin)].prompt, generation);
    for (int64_t i = begin; i < end; ++i) {
      EvalSample& s = samples[static_cast<size_t>(i)];
      const GenerationResult& g = answers[static_cast<size_t>(i - begin)];
      s.prediction = model.decode(g.ids);
      s.generated_tokens = static_cast<int64_t>(g.ids.size());
    }
    begin = end;
    if (progress) progress(begin, n);
  }
  return samples;
}

std::string majority_answer(const data::Dataset& train) {
  VG_CHECK(!train.records.empty(), "eval", "the majority baseline needs training records; ", train.name, " has none");
  std::map<std::string, int64_t> counts;
  std::string best;
  int64_t best_count = 0;
  for (const data::Record& r : train.records) {
    const int64_t c = ++counts[r.answer()];
    if (c > best_count) best = r.answer(), best_count = c;
  }
  return best;
}

std::vector<EvalSample> constant_predictions(const data::Dataset& dataset, const std::string& answer, int64_t limit) {
  std::vector<EvalSample> samples;
  const int64_t n = records_to_score(dataset, limit);
  for (int64_t i = 0; i < n; ++i) {
    samples.push_back(sample_of(dataset.records[static_cast<size_t>(i)]));
    samples.back().prediction = answer;
  }
  return samples;
}

void score_samples(std::vector<EvalSample>& samples, const MetricOptions& options) {
  const RougeScorer rouge;  // evaluate's default: no stemmer
  std::unique_ptr<MeteorScorer> meteor;
  if (options.meteor) meteor = std::make_unique<MeteorScorer>();
  for (EvalSample& s : samples) {
    s.rouge_l = rouge.rouge_l(s.reference, s.prediction).fmeasure;
    s.meteor = meteor ? meteor->score(s.reference, s.prediction) : 0;
    s.exercise_truth = exercise_name(s.reference, options.exercise_rule);
    s.exercise_predicted = exercise_name(s.prediction, options.exercise_rule);
    s.exercise_correct = exercise_matches(s.reference, s.prediction, options.exercise_rule);
    s.form_truth.reset();
    s.form_predicted.reset();
    s.form_correct.reset();
    if (const std::optional<FormLabel> truth = synthetic_form_of_answer(s.reference)) {
      s.form_truth = truth->key();
      const std::optional<FormLabel> predicted = synthetic_form_of_prediction(s.prediction);
      if (predicted) s.form_predicted = predicted->key();
      s.form_correct = predicted && predicted->key() == truth->key();
    }
  }
  if (options.bertscore_f1 && !samples.empty()) {
    std::vector<std::string> candidates, references;
    for (const EvalSample& s : samples) candidates.push_back(s.prediction), references.push_back(s.reference);
    const std::vector<double> f1 = options.bertscore_f1(candidates, references);
    VG_CHECK(f1.size() == samples.size(), "eval", "BERTScore returned ", f1.size(), " scores for ", samples.size(), " pairs");
    for (size_t i = 0; i < samples.size(); ++i) samples[i].bertscore_f1 = f1[i];
  }
}

EvalSummary summarize(const std::vector<EvalSample>& samples) {
  EvalSummary summary;
  for (const EvalSample& s : samples) {
    add_to(summary.overall, s);
    add_to(summary.per_exercise[s.exercise_truth.empty() ? "(none)" : s.exercise_truth], s);
  }
  finish(summary.overall);
  for (auto& [name, group] : summary.per_exercise) finish(group);
  return summary;
}

}  // namespace vg::eval
