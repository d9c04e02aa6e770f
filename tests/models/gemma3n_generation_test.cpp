// Generation with the tiny Gemma 3n: greedy tokens and a left-padded batch identical to
// transformers' generate(), the KV cache against recomputation (past the sliding window), and
// stopping and bad-input behaviour.
#include <gtest/gtest.h>

#include "models/gemma3n/model.h"
#include "support/tensor_testing.h"
#include "vlm/generation.h"

namespace vg {
namespace {

using testing::open_golden;
using testing::test_data_path;

class TinyGeneration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new gemma3n::Model(gemma3n::Model::load(test_data_path("gemma3n/tiny"))); }
  static void TearDownTestSuite() { delete model_; }
  static GenerationOptions greedy(int64_t tokens) {
    GenerationOptions o;
    o.max_new_tokens = tokens;
    o.sampling.greedy = true;
    o.stop_ids = std::vector<int32_t>{};  // the golden ran without an eos
    return o;
  }
  static std::vector<int32_t> ids_of(const Tensor& t) {
    std::vector<int64_t> v = t.to_vector<int64_t>();
    return {v.begin(), v.end()};
  }
  static gemma3n::Model* model_;
};
gemma3n::Model* TinyGeneration::model_ = nullptr;

TEST_F(TinyGeneration, Greedy32TokensMatchTransformers) {
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  Prompt prompt{ids_of(g.get("greedy.prompt")), {}, {}};
  std::vector<GenerationResult> out = generate(*model_, {prompt}, greedy(32));
  EXPECT_EQ(out[0].ids, ids_of(g.get("greedy.tokens")));
  EXPECT_EQ(out[0].finish_reason, FinishReason::Length);
}

TEST_F(TinyGeneration, BatchOfDifferentLengthsMatchesTransformers) {
  io::SafetensorsFile g = open_golden("gemma3n/tiny_golden.safetensors");
  std::vector<int64_t> batch = g.get("batch.prompt").to_vector<int64_t>();
  std::vector<int64_t> mask = g.get("batch.mask").to_vector<int64_t>();
  std::vector<Prompt> prompts(2);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (mask[i] != 0) prompts[i / 6].ids.push_back(static_cast<int32_t>(batch[i]));
  }
  ASSERT_EQ(prompts[0].ids.size(), 3u);
  std::vector<GenerationResult> out = generate(*model_, prompts, greedy(8));
  std::vector<int32_t> expected = ids_of(g.get("batch.tokens"));
  EXPECT_EQ(out[0].ids, std::vector<int32_t>(expected.begin(), expected.begin() + 8));
  EXPECT_EQ(out[1].ids, std::vector<int32_t>(expected.begin() + 8, expected.end()));
  // Rows do not influence each other: the short prompt alone gives the same tokens.
  EXPECT_EQ(generate(*model_, {prompts[0]}, greedy(8))[0].ids, out[0].ids);
}

TEST_F(TinyGeneration, CachedDecodingEqualsRecomputationPastTheWindow) {
  const std::vector<int32_t> prompt = {2, 17, 300, 45, 9};
  std::vector<int32_t> cached = generate(*model_, {Prompt{prompt, {}, {}}}, greedy(40))[0].ids;
  ASSERT_EQ(cached.size(), 40u);  // the sliding window is 4: most steps attend past it
  NoGradGuard no_grad;
  std::vector<int32_t> seq = prompt;
  for (size_t step = 0; step < cached.size(); ++step) {
    gemma3n::ForwardArgs args;
    std::vector<int64_t> ids(seq.begin(), seq.end());
    args.ids = Tensor::from_vector(ids, {1, static_cast<int64_t>(ids.size())});
    Tensor hidden = model_->forward(args);  // no cache: the whole sequence again
    Tensor logits = model_->logits(hidden.select(1, hidden.size(1) - 1)).select(0, 0);
    ASSERT_EQ(argmax(logits, 0).item(), cached[step]) << "step " << step;
    seq.push_back(cached[step]);
  }
}

TEST_F(TinyGeneration, KvCacheLogitsEqualFullForwardLogits) {
  NoGradGuard no_grad;
  std::vector<int64_t> ids = {2, 5, 9, 300, 41, 77, 12, 8, 250, 3, 99, 11, 64};
  gemma3n::ForwardArgs full;
  full.ids = Tensor::from_vector(ids, {1, 13});
  Tensor expected = model_->logits(model_->forward(full));
  // Feed the same tokens in chunks of 3, 1, 5 and 4 through a cache.
  gemma3n::KVCache cache(model_->config(), 1);
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t n : {3, 1, 5, 4}) {
    gemma3n::ForwardArgs step;
    step.ids = full.ids.slice(1, at, at + n);
    parts.push_back(model_->logits(model_->forward(step, &cache)));
    at += n;
  }
  EXPECT_ALL_CLOSE(concat(parts, 1), expected, 1e-4, 1e-4);
  EXPECT_EQ(cache.length(), 13);
}

TEST_F(TinyGeneration, FixedCacheRingsGiveTheFullForwardLogits) {
  NoGradGuard no_grad;
  std::vector<int64_t> ids = {2, 5, 9, 300, 41, 77, 12, 8, 250, 3, 99, 11, 64};
  gemma3n::ForwardArgs full;
  full.ids = Tensor::from_vector(ids, {1, 13});
  Tensor expected = model_->logits(model_->forward(full));
  // A 6-token prompt (longer than the sliding window of 4), then one token per step: the sliding
  // rings wrap several times.
  gemma3n::KVCache cache(model_->config(), 1, 13, model_->dtype(), model_->device());
  ASSERT_TRUE(cache.fixed());
  std::vector<Tensor> parts;
  for (int64_t at = 0; at < 13; at = cache.length()) {
    gemma3n::ForwardArgs step;
    step.ids = full.ids.slice(1, at, at == 0 ? 6 : at + 1);
    parts.push_back(model_->logits(model_->forward(step, &cache)));
  }
  EXPECT_ALL_CLOSE(concat(parts, 1), expected, 1e-4, 1e-4);
  // Clearing keeps the buffers; a shorter prompt and a step after it give the full forward's
  // logits (the step attends over the buffers, whose slots past the prompt must read as unwritten).
  cache.clear();
  gemma3n::ForwardArgs prompt, next;
  prompt.ids = full.ids.slice(1, 0, 3);
  next.ids = full.ids.slice(1, 3, 4);
  const Tensor again =
      concat({model_->logits(model_->forward(prompt, &cache)), model_->logits(model_->forward(next, &cache))}, 1);
  EXPECT_ALL_CLOSE(again, expected.slice(1, 0, 4), 1e-4, 1e-4);
}

TEST_F(TinyGeneration, FixedCacheRejectsChunksAndOverflow) {
  NoGradGuard no_grad;
  gemma3n::KVCache cache(model_->config(), 1, 5, model_->dtype(), model_->device());
  gemma3n::ForwardArgs three;
  three.ids = Tensor::from_vector(std::vector<int64_t>{2, 5, 9}, {1, 3});
  (void)model_->forward(three, &cache);
  testing::expect_error([&] { (void)model_->forward(three, &cache); }, {"one token per step"});
  gemma3n::ForwardArgs one;
  one.ids = Tensor::from_vector(std::vector<int64_t>{7}, {1, 1});
  (void)model_->forward(one, &cache);
  (void)model_->forward(one, &cache);
  testing::expect_error([&] { (void)model_->forward(one, &cache); }, {"the cache holds 5 tokens"});
}

TEST_F(TinyGeneration, ADecoderKeptBetweenCallsGivesFreshResults) {
  Decoder decoder(*model_);
  const Prompt a{{2, 17, 300, 45, 9}, {}, {}}, b{{2, 8}, {}, {}};
  const std::vector<int32_t> first = generate(decoder, {a}, greedy(10))[0].ids;
  // The same session, cleared, with a shorter prompt: what a fresh generate gives.
  EXPECT_EQ(generate(decoder, {b}, greedy(6))[0].ids, generate(*model_, {b}, greedy(6))[0].ids);
  EXPECT_EQ(generate(decoder, {a}, greedy(10))[0].ids, first);
  EXPECT_EQ(generate(*model_, {a}, greedy(10))[0].ids, first);
  EXPECT_FALSE(decoder.uses_graphs());  // the CPU steps op by op
}

TEST_F(TinyGeneration, StopsOnStopTokensAndCallbacks) {
  const Prompt prompt{{2, 17, 300, 45, 9}, {}, {}};
  std::vector<int32_t> free_run = generate(*model_, {prompt}, greedy(12))[0].ids;
  GenerationOptions o = greedy(12);
  o.stop_ids = std::vector<int32_t>{free_run[4]};
  GenerationResult stopped = generate(*model_, {prompt}, o)[0];
  EXPECT_EQ(stopped.finish_reason, FinishReason::StopToken);
  const auto first = static_cast<size_t>(std::find(free_run.begin(), free_run.end(), free_run[4]) - free_run.begin());
  EXPECT_EQ(stopped.ids, std::vector<int32_t>(free_run.begin(), free_run.begin() + static_cast<long>(first)));
  int seen = 0;
  GenerationResult cut = generate(*model_, {prompt}, greedy(12), [&](int64_t, int32_t) { return ++seen < 3; })[0];
  EXPECT_EQ(cut.ids.size(), 3u);
  EXPECT_EQ(cut.finish_reason, FinishReason::Callback);
}

TEST_F(TinyGeneration, SamplingIsReproducibleBySeed) {
  const Prompt prompt{{2, 17, 300}, {}, {}};
  GenerationOptions o;
  o.max_new_tokens = 16;
  o.stop_ids = std::vector<int32_t>{};
  o.sampling.temperature = 1.0;
  o.sampling.top_k = 20;
  o.sampling.seed = 5;
  std::vector<int32_t> a = generate(*model_, {prompt}, o)[0].ids;
  std::vector<int32_t> b = generate(*model_, {prompt}, o)[0].ids;
  o.sampling.seed = 6;
  std::vector<int32_t> c = generate(*model_, {prompt}, o)[0].ids;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST_F(TinyGeneration, RejectsBadPrompts) {
  using testing::expect_error;
  expect_error([&] { generate(*model_, {Prompt{{2, 600}, {}, {}}}, greedy(4)); }, {"[generate]", "600"});
  expect_error([&] { generate(*model_, {Prompt{}}, greedy(4)); }, {"[generate]", "empty"});
  expect_error([&] { generate(*model_, {}, greedy(4)); }, {"[generate]"});
  Prompt long_prompt;
  long_prompt.ids.assign(250, 5);
  expect_error([&] { generate(*model_, {long_prompt}, greedy(10)); }, {"[generate]", "context of 256"});
  gemma3n::ForwardArgs args;
  args.ids = Tensor::from_vector<int64_t>({2, 512}, {1, 2});
  expect_error([&] { model_->forward(args); }, {"512", "out of range"});
}

}  // namespace
}  // namespace vg
