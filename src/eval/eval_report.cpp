#include "eval/eval_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace vg::eval {
namespace {

using json = nlohmann::json;

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * fraction);
  return buf;
}

std::string fixed3(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return buf;
}

// Markdown table cells may not hold '|' or newlines.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out.empty() ? "(empty)" : out;
}

json scores_json(const GroupScores& g) {
  json j = {{"samples", g.samples},       {"exercise_accuracy", g.exercise_accuracy()},
            {"exercise_correct", g.exercise_correct}, {"rouge_l", g.rouge_l},
            {"meteor", g.meteor}};
  if (g.bertscore_f1) j["bertscore_f1"] = *g.bertscore_f1;
  if (const auto form = g.form_accuracy()) {
    j["form_accuracy"] = *form;
    j["form_samples"] = g.form_samples;
    j["form_correct"] = g.form_correct;
  }
  return j;
}

std::string form_cell(const GroupScores& g) {
  const auto form = g.form_accuracy();
  return form ? percent(*form) : "n/a";
}

}  // namespace

EvalRun make_run(std::string name, std::string model, std::string data, std::vector<EvalSample> samples,
                 double generation_seconds) {
  EvalRun run;
  run.name = std::move(name);
  run.model = std::move(model);
  run.data = std::move(data);
  run.samples = std::move(samples);
  run.summary = summarize(run.samples);
  run.generation_seconds = generation_seconds;
  for (const EvalSample& s : run.samples) run.generated_tokens += s.generated_tokens;
  return run;
}

json report_json(const EvalRun& run) {
  json per_exercise = json::object();
  for (const auto& [name, g] : run.summary.per_exercise) per_exercise[name] = scores_json(g);
  json samples = json::array();
  for (const EvalSample& s : run.samples) {
    json j = {{"id", s.id},
              {"media", s.media},
              {"prompt", s.prompt},
              {"reference", s.reference},
              {"prediction", s.prediction},
              {"generated_tokens", s.generated_tokens},
              {"rouge_l", s.rouge_l},
              {"meteor", s.meteor},
              {"exercise_truth", s.exercise_truth},
              {"exercise_predicted", s.exercise_predicted},
              {"exercise_correct", s.exercise_correct}};
    if (s.bertscore_f1) j["bertscore_f1"] = *s.bertscore_f1;
    if (s.form_truth) j["form_truth"] = *s.form_truth;
    if (s.form_predicted) j["form_predicted"] = *s.form_predicted;
    if (s.form_correct) j["form_correct"] = *s.form_correct;
    samples.push_back(std::move(j));
  }
  json j = {{"name", run.name}, {"model", run.model}, {"data", run.data}, {"overall", scores_json(run.summary.overall)},
            {"per_exercise", per_exercise}, {"samples", samples}};
  if (run.generation_seconds > 0) {
    j["generation_seconds"] = run.generation_seconds;
    j["generated_tokens"] = run.generated_tokens;
    j["tokens_per_second"] = static_cast<double>(run.generated_tokens) / run.generation_seconds;
  }
  return j;
}

std::string comparison_markdown(const std::vector<const EvalRun*>& runs) {
  bool bertscore = !runs.empty();
  for (const EvalRun* r : runs) bertscore = bertscore && r->summary.overall.bertscore_f1.has_value();
  std::ostringstream md;
  md << "| | samples | exercise accuracy | form accuracy | ROUGE-L | METEOR |" << (bertscore ? " BERTScore F1 |" : "")
     << "\n|---|---:|---:|---:|---:|---:|" << (bertscore ? "---:|" : "") << "\n";
  for (const EvalRun* r : runs) {
    const GroupScores& g = r->summary.overall;
    md << "| " << cell(r->name) << " | " << g.samples << " | " << percent(g.exercise_accuracy()) << " | "
       << form_cell(g) << " | " << fixed3(g.rouge_l) << " | " << fixed3(g.meteor) << " |";
    if (bertscore) md << " " << fixed3(*g.bertscore_f1) << " |";
    md << "\n";
  }
  return md.str();
}

std::string report_markdown(const EvalRun& run, int max_listed) {
  std::ostringstream md;
  md << "# Evaluation: " << run.name << "\n\n"
     << "- model: `" << run.model << "`\n- data: `" << run.data << "`\n";
  if (run.generation_seconds > 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.1f s, %.1f tokens/s", run.generation_seconds,
                  static_cast<double>(run.generated_tokens) / run.generation_seconds);
    md << "- generation: " << run.generated_tokens << " tokens in " << buf << "\n";
  }
  md << "\n" << comparison_markdown({&run}) << "\n## Per exercise\n\n"
     << "| exercise | samples | exercise accuracy | form accuracy | ROUGE-L | METEOR |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [name, g] : run.summary.per_exercise) {
    md << "| " << cell(name) << " | " << g.samples << " | " << g.exercise_correct << "/" << g.samples << " ("
       << percent(g.exercise_accuracy()) << ") | " << form_cell(g) << " | " << fixed3(g.rouge_l) << " | "
       << fixed3(g.meteor) << " |\n";
  }
  md << "\n## Answers that missed\n\nExercise or form wrong, lowest ROUGE-L first";
  std::vector<const EvalSample*> misses;
  for (const EvalSample& s : run.samples) {
    if (!s.exercise_correct || (s.form_correct && !*s.form_correct)) misses.push_back(&s);
  }
  std::stable_sort(misses.begin(), misses.end(),
                   [](const EvalSample* a, const EvalSample* b) { return a->rouge_l < b->rouge_l; });
  md << " (" << misses.size() << " of " << run.samples.size() << "):\n\n";
  if (misses.empty()) return md.str() + "None.\n";
  md << "| id | reference | prediction | ROUGE-L |\n|---|---|---|---:|\n";
  for (size_t i = 0; i < misses.size() && static_cast<int>(i) < max_listed; ++i) {
    const EvalSample& s = *misses[i];
    md << "| " << cell(s.id) << " | " << cell(s.reference) << " | " << cell(s.prediction) << " | "
       << fixed3(s.rouge_l) << " |\n";
  }
  return md.str();
}

}  // namespace vg::eval
