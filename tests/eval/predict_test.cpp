// eval::predict answers greedily: its answers are what greedy generation gives, and their first
// token is the argmax of a plain forward pass over the prompt (no cache, no sampler). It once
// sampled at temperature 1, and a trained model looked untrained.
#include <gtest/gtest.h>

#include "data/registry.h"
#include "eval/evaluator.h"
#include "ops/ops.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/vlm_fixtures.h"
#include "vlm/video_language_model.h"

namespace vg::eval {
namespace {

// The id with the largest logit at the prompt's last position.
int32_t argmax_after_prompt(const VideoLanguageModel& model, const Tensor& visual, const std::string& question) {
  NoGradGuard no_grad;
  SpliceOptions splice;
  splice.label_answers = false;
  const SplicedSequence s = model.sequence(visual, question, std::nullopt, splice);
  gemma3n::ForwardArgs args;
  args.embeds = s.embeds.unsqueeze(0);  // [1, T, D]
  args.ple_ids = Tensor::from_vector(std::vector<int64_t>(s.ple_ids.begin(), s.ple_ids.end()), {1, s.length()});
  const Tensor hidden = model.language_model().forward(args);                                  // [1, T, D]
  const std::vector<float> logits = model.language_model().logits(hidden.select(1, s.length() - 1))  // [1, V]
                                        .to(DType::F32).to_vector<float>();
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST(Predict, AnswersGreedily) {
  testing::ScratchFolder dir;
  const std::string model_path = testing::write_tiny_vlm(dir.file("model"), 5, /*with_projectors=*/true);
  const std::string registry = testing::write_tiny_qved(dir.file("data"), 10);
  const std::unique_ptr<VideoLanguageModel> model = VideoLanguageModel::load(VlmConfig::load(model_path));
  const data::Dataset test = data::load_dataset("QVED_TEST", registry);

  PredictOptions options;
  options.max_new_tokens = 3;
  const std::vector<EvalSample> samples = predict(*model, test, options);
  ASSERT_EQ(samples.size(), test.records.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const data::Record& r = test.records[i];
    const Tensor visual = model->encoder().encode_video(r.media_path).visual_tokens;
    GenerationOptions greedy;
    greedy.max_new_tokens = 3;
    greedy.sampling.greedy = true;
    const GenerationResult expected = model->answer_tokens({visual}, r.question(), greedy).at(0);
    EXPECT_EQ(samples[i].prediction, model->decode(expected.ids)) << r.id;
    ASSERT_FALSE(expected.ids.empty());
    EXPECT_EQ(expected.ids[0], argmax_after_prompt(*model, visual, r.question())) << r.id;
  }
}

}  // namespace
}  // namespace vg::eval
