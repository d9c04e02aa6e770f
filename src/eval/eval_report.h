// The reports of `videogemma eval`: JSON for programs (every sample with its scores, the overall
// and per-exercise means) and Markdown for people (a summary, the per-exercise breakdown, and
// the samples the model got wrong). Several runs (a model, its untrained start, a majority
// guess) compare in one table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "eval/evaluator.h"

namespace vg::eval {

struct EvalRun {
  std::string name;   // "trained", "untrained", "majority answer", or the model config's path
  std::string model;  // what produced the predictions
  std::string data;   // the dataset name or file
  std::vector<EvalSample> samples;
  EvalSummary summary;
  double generation_seconds = 0;  // 0 for runs that generated nothing
  int64_t generated_tokens = 0;
};

// Summarises `samples` into run.summary and sums its generated tokens.
EvalRun make_run(std::string name, std::string model, std::string data, std::vector<EvalSample> samples,
                 double generation_seconds = 0);

nlohmann::json report_json(const EvalRun& run);

// One row per run: samples, exercise accuracy, form accuracy, ROUGE-L, METEOR (and BERTScore F1
// when every run has it).
std::string comparison_markdown(const std::vector<const EvalRun*>& runs);

// The whole report of one run: summary, per-exercise table, and up to `max_listed` misses.
std::string report_markdown(const EvalRun& run, int max_listed = 20);

}  // namespace vg::eval
