// Finite-difference checks of matmul and linear gradients, incl. broadcasting and views.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(LinalgGrad, MatmulBatchBroadcastAndTransposedOperands) {
  Tensor a = random_tensor({3, 1, 4, 5}, 1).set_requires_grad();
  Tensor b = random_tensor({2, 5, 3}, 2).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return matmul(in[0], in[1]); }, {a, b}));
  Tensor c = random_tensor({5, 4}, 3).set_requires_grad();
  Tensor d = random_tensor({6, 5}, 4).set_requires_grad();
  EXPECT_TRUE(
      gradients_match([](const auto& in) { return matmul(in[0].transpose(0, 1), in[1].transpose(0, 1)); }, {c, d}));
  Tensor e = random_tensor({2, 3, 5}, 5).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return matmul(in[0], in[1]); }, {e, c}));  // 2-D right operand
}

TEST(LinalgGrad, MatmulWithVectors) {
  Tensor v = random_tensor({5}, 6).set_requires_grad();
  Tensor m = random_tensor({5, 3}, 7).set_requires_grad();
  Tensor n = random_tensor({2, 5}, 8).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return matmul(in[0], in[1]); }, {v, m}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return matmul(in[0], in[1]); }, {n, v}));
}

TEST(LinalgGrad, LinearWithBiasOnANonContiguousInput) {
  Tensor x = random_tensor({7, 2, 3}, 9).set_requires_grad();
  Tensor w = random_tensor({4, 7}, 10).set_requires_grad();
  Tensor b = random_tensor({4}, 11).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return linear(in[0].permute({1, 2, 0}), in[1], in[2]);
      },
      {x, w, b}));
}

}  // namespace
}  // namespace vg
