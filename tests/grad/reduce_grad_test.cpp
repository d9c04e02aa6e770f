// Finite-difference checks of reduction gradients.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(ReduceGrad, SumMeanOverDimsOfAPermutedView) {
  Tensor x = random_tensor({3, 4, 5}, 1).set_requires_grad();
  auto v = [](const Tensor& t) { return t.permute({2, 0, 1}); };
  EXPECT_TRUE(gradients_match([&](const auto& in) { return sum(v(in[0]), 1); }, {x}));
  EXPECT_TRUE(gradients_match([&](const auto& in) { return sum(v(in[0]), {0, 2}, true); }, {x}));
  EXPECT_TRUE(gradients_match([&](const auto& in) { return sum(v(in[0])); }, {x}));
  EXPECT_TRUE(gradients_match([&](const auto& in) { return mean(v(in[0]), -1); }, {x}));
  EXPECT_TRUE(gradients_match([&](const auto& in) { return mean(v(in[0])); }, {x}));
}

TEST(ReduceGrad, MaxMinVarStdLogsumexp) {
  Tensor x = random_tensor({4, 7}, 2).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return max(in[0], 1); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return min(in[0], 0, true); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return var(in[0], 1); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return var(in[0].transpose(0, 1), 1, 0); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return stddev(in[0], 0); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return logsumexp(in[0], 1); }, {x}));
}

}  // namespace
}  // namespace vg
