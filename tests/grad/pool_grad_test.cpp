// Finite-difference checks of the avg_pool2d and adaptive_avg_pool2d gradients on odd sizes,
// overlapping windows, padding, ceil mode and non-contiguous inputs.
#include <gtest/gtest.h>

#include "ops/pool.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(PoolGrad, AvgPoolOverlappingPaddedWindowsOnAPermutedView) {
  Tensor x = random_tensor({9, 7, 2, 3}, 1).set_requires_grad();  // stored [H, W, B, C]
  for (bool include : {true, false}) {
    for (bool ceil : {false, true}) {
      EXPECT_TRUE(gradients_match(
          [=](const auto& in) {
            return avg_pool2d(in[0].permute({2, 3, 0, 1}), {3, 3}, {2, 2}, {1, 1}, ceil, include);
          },
          {x}))
          << "count_include_pad " << include << ", ceil_mode " << ceil;
    }
  }
}

TEST(PoolGrad, AvgPoolDefaultStrideRectangularAndUnbatched) {
  Tensor x = random_tensor({3, 8, 7}, 2).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return avg_pool2d(in[0], {2, 2}); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return avg_pool2d(in[0], {2, 3}, {1, 2}, {1, 0}); }, {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return avg_pool2d(in[0], {2, 3}, {4, 3}, {1, 1}, true); }, {x}));
}

TEST(PoolGrad, AdaptiveDownAndUpOnATransposedView) {
  Tensor x = random_tensor({2, 14, 14}, 3).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return adaptive_avg_pool2d(in[0].transpose(1, 2), {12, 12});
      },
      {x}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return adaptive_avg_pool2d(in[0], {7, 7}); }, {x}));
  Tensor y = random_tensor({2, 3, 5, 7}, 4).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return adaptive_avg_pool2d(in[0], {3, 4}); }, {y}));
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return adaptive_avg_pool2d(in[0].slice(3, 0, 7, 2), {7, 3});
      },
      {y}));
}

}  // namespace
}  // namespace vg
