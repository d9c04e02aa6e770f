// videogemma eval: answer a split with a model and score the answers (docs/eval.md).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "data/registry.h"
#include "eval/bertscore.h"
#include "eval/eval_report.h"
#include "io/mapped_file.h"
#include "model_options.h"
#include "progress_bar.h"
#include "vlm/video_language_model.h"

namespace vg::cli {
namespace {

struct EvalCommandOptions {
  std::string model;
  std::string data = "QVED_TEST";
  std::string datasets;
  std::string majority_from;
  std::string report_json, report_markdown;
  std::string exercise_rule = "v1";
  std::string device, dtype;  // "" = the model config's
  eval::PredictOptions predict;
  std::string bertscore_model, bertscore_baseline;
  int64_t bertscore_layer = -1;
  bool bertscore_idf = false;
  bool skip_bad_records = false;
  bool no_meteor = false;
  bool json = false;
  bool quiet = false;
};

eval::ExerciseRule parse_rule(const std::string& name) {
  if (name == "v1") return eval::ExerciseRule::kV1;
  if (name == "v2") return eval::ExerciseRule::kV2;
  throw Error("eval", "--exercise-rule takes v1 or v2, got '" + name + "'");
}

data::Dataset load(const EvalCommandOptions& o, const std::string& name) {
  data::LoadOptions load;
  load.on_bad_record = o.skip_bad_records ? data::BadRecordPolicy::Skip : data::BadRecordPolicy::Reject;
  data::Dataset d = data::load_dataset(name, o.datasets, load);
  for (const data::BadRecord& bad : d.skipped) logging::warn("eval: skipped ", bad.describe());
  VG_CHECK(!d.records.empty(), "eval", name, " has no records to evaluate on");
  return d;
}

void run_eval(const EvalCommandOptions& o) {
  eval::MetricOptions metrics;
  metrics.exercise_rule = parse_rule(o.exercise_rule);
  metrics.meteor = !o.no_meteor;
  std::shared_ptr<eval::BertScorer> bertscore;
  if (!o.bertscore_model.empty()) {
    eval::BertScoreOptions b;
    b.num_layers = o.bertscore_layer;
    b.idf = o.bertscore_idf;
    if (!o.bertscore_baseline.empty()) {
      // The baseline row is the layer's; -1 means the last layer, as config.json numbers it.
      const int64_t layer = b.num_layers >= 0 ? b.num_layers : bert::Config::load(o.bertscore_model).num_hidden_layers;
      b.baseline = eval::read_bertscore_baseline(o.bertscore_baseline, layer);
    }
    bertscore = std::make_shared<eval::BertScorer>(o.bertscore_model, b);
    metrics.bertscore_f1 = [bertscore](const std::vector<std::string>& candidates, const std::vector<std::string>& references) {
      std::vector<double> f1;
      for (const eval::BertScoreResult& r : bertscore->score(candidates, references)) f1.push_back(r.f1);
      return f1;
    };
  } else {
    VG_CHECK(o.bertscore_baseline.empty() && !o.bertscore_idf && o.bertscore_layer < 0, "eval",
             "--bertscore-layer, --bertscore-idf and --bertscore-baseline need --bertscore-model");
  }
  const data::Dataset dataset = load(o, o.data);
  const bool show = !o.quiet && !o.json;

  VlmConfig config = VlmConfig::load(o.model);
  override_device(config, o.device, o.dtype);
  std::unique_ptr<VideoLanguageModel> model = VideoLanguageModel::load(config);
  std::unique_ptr<ProgressBar> bar;
  const auto start = std::chrono::steady_clock::now();
  std::vector<eval::EvalSample> samples = eval::predict(*model, dataset, o.predict, [&](int64_t done, int64_t total) {
    if (!show) return;
    if (!bar) bar = std::make_unique<ProgressBar>(total, "clips");
    bar->update(done);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (bar) bar->finish();
  eval::score_samples(samples, metrics);
  std::vector<eval::EvalRun> runs;
  runs.push_back(eval::make_run(o.model, o.model, o.data, std::move(samples), seconds));
  if (!o.majority_from.empty()) {
    const std::string answer = eval::majority_answer(load(o, o.majority_from));
    std::vector<eval::EvalSample> guesses = eval::constant_predictions(dataset, answer, o.predict.limit);
    eval::score_samples(guesses, metrics);
    runs.push_back(eval::make_run("majority answer of " + o.majority_from, "\"" + answer + "\"", o.data, std::move(guesses)));
  }

  const eval::EvalRun& main_run = runs.front();
  if (!o.report_json.empty()) {
    nlohmann::json doc = eval::report_json(main_run);
    if (runs.size() > 1) doc["baseline"] = eval::report_json(runs[1]);
    io::write_file_atomically(o.report_json, doc.dump(1) + "\n");
  }
  if (!o.report_markdown.empty()) {
    std::string md = eval::report_markdown(main_run);
    if (runs.size() > 1) md += "\n## Against the majority-class baseline\n\n" + eval::comparison_markdown({&runs[0], &runs[1]});
    io::write_file_atomically(o.report_markdown, md);
  }
  if (o.json) {
    nlohmann::json doc = eval::report_json(main_run);
    doc.erase("samples");
    if (runs.size() > 1) {
      doc["baseline"] = eval::report_json(runs[1]);
      doc["baseline"].erase("samples");
    }
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  if (o.quiet) return;
  std::vector<const eval::EvalRun*> table;
  for (const eval::EvalRun& r : runs) table.push_back(&r);
  std::printf("%s", eval::comparison_markdown(table).c_str());
  std::printf("%lld tokens generated in %.1f s (%.1f tokens/s)\n", static_cast<long long>(main_run.generated_tokens), seconds,
              static_cast<double>(main_run.generated_tokens) / std::max(seconds, 1e-9));
  for (const std::string* path : {&o.report_json, &o.report_markdown}) {
    if (!path->empty()) std::printf("report: %s\n", path->c_str());
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalCommandOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Answer a dataset split with a model and score it (ROUGE-L, METEOR, exercise and form accuracy)");
  cmd->add_option("--model", o->model, "model config (JSON, docs/vision.md), e.g. a training run's model.json")->required();
  cmd->add_option("--data", o->data, "dataset name in the registry, or an annotation file (default QVED_TEST)");
  cmd->add_option("--datasets", o->datasets, "the registry (datasets.json) names are looked up in");
  cmd->add_option("--device", o->device, std::string(kDeviceHelp) + "; overrides the model config's \"device\"");
  cmd->add_option("--dtype", o->dtype, std::string(kDtypeHelp) + "; overrides the model config's \"dtype\"");
  cmd->add_option("--batch-size", o->predict.batch_size, "clips answered together (default 8)")->check(CLI::Range(1, 4096));
  cmd->add_option("--max-new-tokens", o->predict.max_new_tokens, "longest answer (default 64)")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--limit", o->predict.limit, "evaluate only the first N records")->check(CLI::NonNegativeNumber);
  cmd->add_option("--majority-from", o->majority_from, "also score the most common answer of this dataset (e.g. QVED_TRAIN)");
  cmd->add_option("--report-json", o->report_json, "write the full report (every sample) as JSON here");
  cmd->add_option("--report-md", o->report_markdown, "write a readable Markdown report here");
  cmd->add_option("--exercise-rule", o->exercise_rule, "how the exercise name is read from an answer: v1 (default) or v2");
  cmd->add_option("--bertscore-model", o->bertscore_model, "also compute BERTScore with this BERT folder (config.json, model.safetensors, tokenizer.json)");
  cmd->add_option("--bertscore-layer", o->bertscore_layer, "hidden state BERTScore uses (default: the last; bert_score uses 9 for bert-base-uncased)");
  cmd->add_flag("--bertscore-idf", o->bertscore_idf, "idf-weight BERTScore's tokens (idf from the references)");
  cmd->add_option("--bertscore-baseline", o->bertscore_baseline, "rescale BERTScore with this bert_score baseline file (LAYER,P,R,F)");
  cmd->add_flag("--skip-bad-records", o->skip_bad_records, "skip (and list) bad dataset records instead of stopping");
  cmd->add_flag("--no-meteor", o->no_meteor, "do not compute METEOR (it needs WordNet)");
  cmd->add_flag("--json", o->json, "print the summary as JSON");
  cmd->add_flag("--quiet", o->quiet, "print nothing but errors");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace vg::cli
