// videogemma score: the log-probability of each token of a text given the tokens before it.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "io/mapped_file.h"
#include "model_options.h"
#include "ops/ops.h"

namespace vg::cli {
namespace {

struct ScoreOptions {
  ModelOptions model;
  std::string text_file;
  std::string ids;
  bool json = false;
};

void run_score(const ScoreOptions& o) {
  VG_CHECK(o.text_file.empty() != o.ids.empty(), "cli", "give exactly one of --text and --ids");
  gemma3n::Model model = o.model.load_model();
  std::optional<text::Tokenizer> tokenizer = o.model.load_tokenizer();
  std::vector<int32_t> ids;
  if (!o.ids.empty()) {
    ids = parse_ids(o.ids);
  } else {
    VG_CHECK(tokenizer.has_value(), "cli", "--text needs a tokenizer: the model folder has no tokenizer.json, ",
             "pass --tokenizer");
    ids = tokenizer->encode(io::read_text_file(o.text_file), true);
  }
  VG_CHECK(ids.size() >= 2, "cli", "scoring needs at least two tokens, got ", ids.size());
  const auto n = static_cast<int64_t>(ids.size());
  const gemma3n::Config& c = model.config();
  VG_CHECK(n <= c.max_position_embeddings, "cli", "the text has ", n, " tokens; the model's context is ",
           c.max_position_embeddings);
  for (int32_t id : ids) {
    VG_CHECK(id < c.vocab_size, "cli", "token id ", id, " is outside the model's vocabulary of ", c.vocab_size);
  }

  NoGradGuard no_grad;
  std::vector<int64_t> ids64(ids.begin(), ids.end());
  gemma3n::ForwardArgs args;
  args.ids = Tensor::from_vector(ids64, {1, n});
  Tensor hidden = model.forward(args);
  // Per-position loss of the next token = -log p(token t+1 | tokens <= t), without the logits.
  std::vector<double> logprobs = neg(model.loss(hidden, args.ids, Reduction::None)).to_vector<double>();
  double total = 0.0;
  for (double lp : logprobs) total += lp;
  const double perplexity = std::exp(-total / static_cast<double>(logprobs.size()));
  if (o.json) {
    nlohmann::json doc = {{"ids", ids}, {"logprobs", logprobs}, {"perplexity", perplexity}};
    std::printf("%s\n", doc.dump().c_str());
    return;
  }
  std::printf("%8s  %10s  %s\n", "id", "logprob", tokenizer ? "token" : "");
  for (size_t i = 0; i < logprobs.size(); ++i) {
    const int32_t id = ids[i + 1];
    std::printf("%8d  %10.4f  %s\n", id, logprobs[i], tokenizer && tokenizer->has_token(id) ? tokenizer->id_to_token(id).c_str() : "");
  }
  std::printf("%zu tokens scored, perplexity %.4f\n", logprobs.size(), perplexity);
}

}  // namespace

void add_score_command(CLI::App& app) {
  auto o = std::make_shared<ScoreOptions>();
  CLI::App* cmd = app.add_subcommand("score", "Log-probability of each token of a text under a Gemma 3n model");
  o->model.add_to(*cmd);
  cmd->add_option("--text", o->text_file, "file whose text is scored (tokenized with <bos>)");
  cmd->add_option("--ids", o->ids, "token ids to score, e.g. 2,17,300");
  cmd->add_flag("--json", o->json, "print {\"ids\", \"logprobs\", \"perplexity\"} as JSON");
  cmd->callback([o] { run_score(*o); });
}

}  // namespace vg::cli
