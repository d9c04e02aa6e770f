// Splicing visual tokens into the language model's input, on the tiny Gemma 3n checkpoint.
#include <gtest/gtest.h>

#include <cmath>

#include "models/gemma3n/model.h"
#include "ops/ops.h"
#include "support/tensor_testing.h"
#include "vlm/splice.h"

namespace vg {
namespace {

using testing::expect_error;

// <bos> <start_of_turn> user \n [media] \n q q <end_of_turn> \n <start_of_turn> model \n a a a <end_of_turn> \n
// as a ChatPrompt with made-up ids below the tiny vocabulary (512).
text::ChatPrompt prompt_with_media(int media_count = 1) {
  text::ChatPrompt p;
  p.ids = {2, 105, 30, 10};
  for (int m = 0; m < media_count; ++m) {
    p.media_positions.push_back(static_cast<int64_t>(p.ids.size()));
    p.ids.push_back(262);  // the media token's id (any id: it is replaced)
    p.ids.push_back(10);
  }
  p.ids.insert(p.ids.end(), {40, 41, 106, 10});
  const int64_t user_end = static_cast<int64_t>(p.ids.size());
  p.turns.push_back({"user", 1, 3, user_end - 2, user_end});
  const int64_t model_begin = user_end;
  p.ids.insert(p.ids.end(), {105, 31, 10, 50, 51, 52, 106, 10});
  p.turns.push_back({"model", model_begin, model_begin + 3, model_begin + 6, model_begin + 8});
  return p;
}

const gemma3n::Model& tiny() {
  static const gemma3n::Model* m = new gemma3n::Model(gemma3n::Model::load(testing::test_data_path("gemma3n/tiny")));
  return *m;
}

TEST(Splice, VisualRowsReplaceTheMediaTokenUnscaled) {
  const gemma3n::Model& m = tiny();
  const text::ChatPrompt p = prompt_with_media();
  Tensor visual = testing::random_tensor({5, 64}, 1, DType::F32);
  SplicedSequence s = splice_visual_tokens(m, p, {visual});
  ASSERT_EQ(s.length(), static_cast<int64_t>(p.ids.size()) - 1 + 5);
  EXPECT_EQ(s.visual_end, 4 + 5);
  // Rows before and after: the scaled text embeddings of the same ids.
  Tensor text_ids = Tensor::from_vector(std::vector<int64_t>{2, 105, 30, 10}, {1, 4});
  EXPECT_ALL_CLOSE(s.embeds.narrow(0, 0, 4), m.embed(text_ids).select(0, 0), 0, 0);
  EXPECT_ALL_CLOSE(s.embeds.narrow(0, 4, 5), visual, 0, 0);  // not multiplied by sqrt(D)
  Tensor after = Tensor::from_vector(std::vector<int64_t>{10, 40}, {1, 2});
  EXPECT_ALL_CLOSE(s.embeds.narrow(0, 9, 2), m.embed(after).select(0, 0), 0, 0);
  EXPECT_NEAR(s.embeds.select(0, 0).to_vector<float>()[0] / m.weights().embed_tokens.select(0, 2).to_vector<float>()[0],
              std::sqrt(64.0), 1e-3);
  for (int64_t i = 4; i < 9; ++i) {
    EXPECT_EQ(s.ple_ids[static_cast<size_t>(i)], 0);
    EXPECT_EQ(s.token_ids[static_cast<size_t>(i)], -1);
    EXPECT_EQ(s.labels[static_cast<size_t>(i)], kIgnoreLabel);
  }
  // Labels: exactly the answer (50 51 52) and its <end_of_turn> (106).
  std::vector<int64_t> labelled;
  for (int64_t l : s.labels) {
    if (l != kIgnoreLabel) labelled.push_back(l);
  }
  EXPECT_EQ(labelled, (std::vector<int64_t>{50, 51, 52, 106}));
  EXPECT_EQ(s.labels[static_cast<size_t>(s.length() - 1)], kIgnoreLabel);  // the final "\n"

  SpliceOptions inference;
  inference.label_answers = false;
  for (int64_t l : splice_visual_tokens(m, p, {visual}, inference).labels) EXPECT_EQ(l, kIgnoreLabel);
}

TEST(Splice, GradientsReachTheVisualTokensThroughTheLoss) {
  const gemma3n::Model& m = tiny();
  Tensor visual = testing::random_tensor({6, 64}, 2, DType::F32).set_requires_grad(true);
  SplicedSequence s = splice_visual_tokens(m, prompt_with_media(), {visual});
  SplicedBatch batch = collate({s});
  gemma3n::ForwardArgs args;
  args.embeds = batch.embeds;
  args.ple_ids = batch.ple_ids;
  Tensor loss = m.loss(m.forward(args), batch.labels);
  loss.backward();
  ASSERT_TRUE(visual.grad().defined());
  EXPECT_GT(sum(abs(visual.grad())).item(), 0.0);
  EXPECT_TRUE(std::isfinite(loss.item()));
}

TEST(Splice, CollateRightPadsAndPaddingChangesNothing) {
  const gemma3n::Model& m = tiny();
  SplicedSequence one = splice_visual_tokens(m, prompt_with_media(1), {testing::random_tensor({3, 64}, 3, DType::F32)});
  SplicedSequence two = splice_visual_tokens(
      m, prompt_with_media(2), {testing::random_tensor({4, 64}, 4, DType::F32), testing::random_tensor({2, 64}, 5, DType::F32)});
  SplicedBatch b = collate({one, two});
  const int64_t T = two.length();
  ASSERT_EQ(b.embeds.shape(), Shape({2, T, 64}));
  EXPECT_EQ(sum(b.valid.to(DType::F32)).item(), static_cast<double>(one.length() + two.length()));
  EXPECT_EQ(b.labels.select(0, 0).to_vector<int64_t>()[static_cast<size_t>(T - 1)], kIgnoreLabel);

  // The padded row's loss equals its loss alone (right padding never reaches earlier positions).
  auto loss_of = [&](const SplicedBatch& batch) {
    gemma3n::ForwardArgs args;
    args.embeds = batch.embeds;
    args.ple_ids = batch.ple_ids;
    args.valid = batch.valid;
    NoGradGuard no_grad;
    return m.loss(m.forward(args), batch.labels, Reduction::None);
  };
  Tensor alone = loss_of(collate({one}));  // [1, T1 - 1]: position t predicts t + 1
  Tensor padded = loss_of(b).select(0, 0).narrow(0, 0, one.length() - 1);
  EXPECT_ALL_CLOSE(padded, alone.select(0, 0), 1e-5, 1e-6);
}

TEST(Splice, TruncationKeepsTheVisualTokensAndErrorsInsideThem) {
  const gemma3n::Model& m = tiny();
  const text::ChatPrompt p = prompt_with_media();
  Tensor visual = testing::random_tensor({5, 64}, 6, DType::F32);
  SpliceOptions cut;
  cut.max_length = 19;  // drops the tail of the answer (which starts at 17)
  SplicedSequence s = splice_visual_tokens(m, p, {visual}, cut);
  EXPECT_EQ(s.length(), 19);
  EXPECT_EQ(s.embeds.size(0), 19);
  EXPECT_EQ(s.labels[17], 50);
  EXPECT_EQ(s.labels[18], 51);
  cut.max_length = 16;  // would leave no answer token to learn from
  expect_error([&] { splice_visual_tokens(m, p, {visual}, cut); }, {"[vlm]", "needs 18 tokens", "maximum length 16"});
  cut.max_length = 8;  // would cut into the visual tokens (they end at 9)
  expect_error([&] { splice_visual_tokens(m, p, {visual}, cut); }, {"[vlm]", "maximum length 8"});
  expect_error([&] { splice_visual_tokens(m, p, {}); }, {"[vlm]", "1 media tokens but 0"});
  expect_error([&] { splice_visual_tokens(m, p, {testing::random_tensor({5, 32}, 7, DType::F32)}); },
               {"[vlm]", "[N, 64]"});
}

}  // namespace
}  // namespace vg
