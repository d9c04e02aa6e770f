// The model commands end to end on the tiny Gemma 3n checkpoint: info, generate and score,
// checked against transformers' outputs (tools/reference/make_gemma3n_goldens.py).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "models/gemma3n/weights.h"
#include "support/cli_runner.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::CliRun;
using testing::run_cli;
using testing::last_json;

std::string ids_arg(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

const std::string kTiny = testing::test_data_path("gemma3n/tiny");

TEST(CliModels, InfoReportsConfigAndParameterCounts) {
  CliRun r = run_cli("info --model " + kTiny + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json doc = last_json(r);
  EXPECT_EQ(doc["num_hidden_layers"], 10);
  EXPECT_EQ(doc["first_kv_shared_layer"], 6);
  EXPECT_EQ(doc["parameters"]["total"], gemma3n::count_parameters(gemma3n::Config::load(kTiny)).total);
  io::Checkpoint ckpt = io::Checkpoint::open(kTiny);
  int64_t stored = 0;
  for (const std::string& name : ckpt.names()) stored += numel(ckpt.info(name).shape);
  EXPECT_EQ(doc["checkpoint"]["parameters_stored"], stored);
  CliRun text = run_cli("info --model " + kTiny);
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.output.find("K/V shared from layer 6"), std::string::npos) << text.output;
}

TEST(CliModels, GenerateGreedyMatchesTransformers) {
  io::SafetensorsFile g = testing::open_golden("gemma3n/tiny_golden.safetensors");
  CliRun r = run_cli("generate --model " + kTiny + " --ids " + ids_arg(g.get("greedy.prompt").to_vector<int64_t>()) +
                     " --max-new-tokens 32 --ignore-eos --json");
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json doc = last_json(r);
  EXPECT_EQ(doc["ids"].get<std::vector<int64_t>>(), g.get("greedy.tokens").to_vector<int64_t>());
  EXPECT_EQ(doc["finish_reason"], "length");
  EXPECT_EQ(doc["prompt_tokens"], 5);
}

TEST(CliModels, ScoreMatchesLogSoftmaxOfTransformersLogits) {
  io::SafetensorsFile g = testing::open_golden("gemma3n/tiny_golden.safetensors");
  const std::vector<int64_t> ids = g.get("ids").select(0, 0).to_vector<int64_t>();
  CliRun r = run_cli("score --model " + kTiny + " --ids " + ids_arg(ids) + " --json");
  ASSERT_EQ(r.status, 0) << r.output;
  nlohmann::json doc = last_json(r);
  std::vector<double> logprobs = doc["logprobs"].get<std::vector<double>>();
  ASSERT_EQ(logprobs.size(), ids.size() - 1);
  // Independent of the loss op: log_softmax of transformers' logits at each next token.
  Tensor expected = log_softmax(g.get("logits").select(0, 0).to(DType::F64), -1);
  double total = 0;
  for (size_t t = 0; t + 1 < ids.size(); ++t) {
    const double want = expected.select(0, static_cast<int64_t>(t)).select(0, ids[t + 1]).item();
    EXPECT_NEAR(logprobs[t], want, 1e-4) << "position " << t;
    total += want;
  }
  // A random model is very perplexed: compare the logarithm.
  EXPECT_NEAR(std::log(doc["perplexity"].get<double>()), -total / static_cast<double>(logprobs.size()), 1e-4);
}

TEST(CliModels, ExplainsBadRequests) {
  CliRun no_tok = run_cli("generate --model " + kTiny + " --prompt hello");
  EXPECT_EQ(no_tok.status, 1);
  EXPECT_NE(no_tok.output.find("needs a tokenizer"), std::string::npos) << no_tok.output;
  CliRun bad_ids = run_cli("generate --model " + kTiny + " --ids 2,x,5");
  EXPECT_EQ(bad_ids.status, 1);
  EXPECT_NE(bad_ids.output.find("'x' in --ids"), std::string::npos) << bad_ids.output;
  CliRun range = run_cli("score --model " + kTiny + " --ids 2,700");
  EXPECT_EQ(range.status, 1);
  EXPECT_NE(range.output.find("outside the model's vocabulary"), std::string::npos) << range.output;
  CliRun both = run_cli("generate --model " + kTiny + " --ids 2 --prompt hi");
  EXPECT_EQ(both.status, 1);
  CliRun dtype = run_cli("score --model " + kTiny + " --ids 2,3 --dtype bf16");
  EXPECT_NE(dtype.output.find("--dtype must be f32 or f64"), std::string::npos) << dtype.output;
  CliRun missing = run_cli("info --model /no/such/folder");
  EXPECT_EQ(missing.status, 1);
}

}  // namespace
}  // namespace vg
