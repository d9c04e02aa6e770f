// `videogemma eval`: answer every clip of a split with a model (batched generation), then score
// each answer against its reference: ROUGE-L (rouge_score), METEOR (NLTK), optionally BERTScore,
// exercise accuracy (the reference report's v1 rule: the text before '-') and, on synthetic data,
// form-error accuracy (form_match.h). Scoring is separate from generation so that baselines (a
// majority-class guess, another model) are scored by exactly the same code.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/exercise_match.h"

namespace vg {
class VideoLanguageModel;
}

namespace vg::eval {

struct EvalSample {
  std::string id, media, prompt, reference, prediction;
  int64_t generated_tokens = 0;
  // Filled by score_samples():
  double rouge_l = 0, meteor = 0;
  std::optional<double> bertscore_f1;
  std::string exercise_truth, exercise_predicted;  // names under the chosen rule, lowercased
  bool exercise_correct = false;
  std::optional<std::string> form_truth, form_predicted;  // "squats/knees_caving_in" (synthetic data)
  std::optional<bool> form_correct;                       // set when form_truth is
};

struct PredictOptions {
  int64_t batch_size = 8;
  int64_t max_new_tokens = 64;
  int64_t limit = 0;  // score only the first `limit` records (0: all)
};

// Called after each batch with (records answered, records in all).
using EvalProgress = std::function<void(int64_t done, int64_t total)>;

// Generates an answer (greedy) for every record with a video, in batches of records that share a
// prompt. Records without media are an error (name the record).
std::vector<EvalSample> predict(const VideoLanguageModel& model, const data::Dataset& dataset,
                                const PredictOptions& options, const EvalProgress& progress = {});

// The same samples answered by a constant: the most common answer of `train` (ties: the first
// seen), the majority-class baseline.
std::string majority_answer(const data::Dataset& train);
std::vector<EvalSample> constant_predictions(const data::Dataset& dataset, const std::string& answer, int64_t limit = 0);

struct MetricOptions {
  ExerciseRule exercise_rule = ExerciseRule::kV1;
  bool meteor = true;
  // BERTScore F1 of (candidates, references), one per pair; unset: not computed.
  std::function<std::vector<double>(const std::vector<std::string>&, const std::vector<std::string>&)> bertscore_f1;
};

// Fills every metric field of `samples` from their reference and prediction.
void score_samples(std::vector<EvalSample>& samples, const MetricOptions& options = {});

struct GroupScores {
  int64_t samples = 0, exercise_correct = 0, form_samples = 0, form_correct = 0;
  double rouge_l = 0, meteor = 0;   // means
  std::optional<double> bertscore_f1;
  double exercise_accuracy() const { return samples ? static_cast<double>(exercise_correct) / samples : 0; }
  std::optional<double> form_accuracy() const {
    if (form_samples == 0) return std::nullopt;
    return static_cast<double>(form_correct) / form_samples;
  }
};

struct EvalSummary {
  GroupScores overall;
  std::map<std::string, GroupScores> per_exercise;  // by the reference's exercise name
};

EvalSummary summarize(const std::vector<EvalSample>& samples);

}  // namespace vg::eval
