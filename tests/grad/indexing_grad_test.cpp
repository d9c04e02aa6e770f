// Finite-difference checks of the joining, reordering and gathering gradients, and of views.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(IndexingGrad, EmbeddingAndIndexSelectWithRepeatedIds) {
  Tensor w = random_tensor({6, 3}, 1).set_requires_grad();
  Tensor ids = Tensor::from_vector<int64_t>({4, 1, 4, 0, 5, 4}, {2, 3});
  EXPECT_TRUE(gradients_match([&](const auto& in) { return embedding(in[0], ids); }, {w}));
  Tensor x = random_tensor({3, 5, 2}, 2).set_requires_grad();
  Tensor idx = Tensor::from_vector<int32_t>({2, 0, 2}, {3});
  EXPECT_TRUE(gradients_match([&](const auto& in) { return index_select(in[0].transpose(0, 2), 2, idx); }, {x}));
}

TEST(IndexingGrad, ConcatStackSplitFlip) {
  Tensor a = random_tensor({2, 3}, 3).set_requires_grad();
  Tensor b = random_tensor({2, 5}, 4).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return concat({in[0], in[1], in[0]}, 1); }, {a, b}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return stack({in[0], mul(in[0], 2.0)}, 1); }, {a}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return mul(split(in[0], {2, 3}, 1)[1], 3.0); }, {b}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return flip(in[0].transpose(0, 1), {0}); }, {b}));
}

TEST(IndexingGrad, GatherScatterTopk) {
  Tensor x = random_tensor({3, 4}, 5).set_requires_grad();
  Tensor idx = Tensor::from_vector<int64_t>({3, 3, 0, 1, 2, 2}, {3, 2});
  EXPECT_TRUE(gradients_match([&](const auto& in) { return gather(in[0], 1, idx); }, {x}));
  Tensor src = random_tensor({3, 2}, 6).set_requires_grad();
  EXPECT_TRUE(gradients_match([&](const auto& in) { return scatter_add(in[0], 1, idx, in[1]); }, {x, src}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return topk(in[0], 2, 1).first; }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return topk(in[0], 2, 0, false).first; }, {x}));
}

TEST(ViewGrad, EveryViewOp) {
  Tensor x = random_tensor({2, 3, 4}, 7).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return mul(in[0].reshape({4, -1}), 2.0); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].permute({2, 0, 1}).reshape({4, 6})); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].flatten(1)); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].unsqueeze(1).squeeze(1)); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].select(1, -1)); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].narrow(2, 1, 2)); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].slice(2, 0, 4, 3)); }, {x}));
  Tensor row = random_tensor({1, 4}, 8).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].expand({3, -1})); }, {row}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return in[0].transpose(0, 2).contiguous(); }, {x}));
}

}  // namespace
}  // namespace vg
