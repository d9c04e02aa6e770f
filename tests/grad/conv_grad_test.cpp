// Finite-difference checks of the conv2d / conv3d gradients (x, weight, bias) on odd sizes,
// with inputs given as permuted views, for the general (im2col), pointwise and depthwise paths.
#include <gtest/gtest.h>

#include "ops/conv.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(ConvGrad, Conv2dGroupedStridedPaddedOnAPermutedView) {
  Tensor x = random_tensor({2, 7, 5, 4}, 1).set_requires_grad();  // stored [B, H, W, C]
  Tensor w = random_tensor({6, 2, 3, 3}, 2).set_requires_grad();
  Tensor b = random_tensor({6}, 3).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv2d(in[0].permute({0, 3, 1, 2}), in[1], in[2], {2, 2}, {1, 1}, 2);
      },
      {x, w, b}));
}

TEST(ConvGrad, Conv2dRectangularKernelWithoutBias) {
  Tensor x = random_tensor({1, 3, 6, 7}, 4).set_requires_grad();
  Tensor w = random_tensor({2, 4, 3, 3}, 5).set_requires_grad();  // stored [kh, kw... ] transposed below
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv2d(in[0], in[1].transpose(2, 3).narrow(1, 0, 3), Tensor(), {1, 2}, {0, 1});
      },
      {x, w}));
}

TEST(ConvGrad, Conv2dPatchEmbeddingAndStrideBeyondKernel) {
  Tensor x = random_tensor({2, 3, 8, 12}, 6).set_requires_grad();
  Tensor w = random_tensor({5, 3, 4, 4}, 7).set_requires_grad();
  Tensor b = random_tensor({5}, 8).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return conv2d(in[0], in[1], in[2], {4, 4}); }, {x, w, b}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return conv2d(in[0], in[1], in[2], {3, 5}, {1, 0}); }, {x, w, b}));
}

TEST(ConvGrad, Conv2dPointwise) {
  Tensor x = random_tensor({2, 3, 5, 3}, 9).set_requires_grad();
  Tensor w = random_tensor({4, 3, 1, 1}, 10).set_requires_grad();
  Tensor b = random_tensor({4}, 11).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return conv2d(in[0].transpose(2, 3), in[1], in[2]); }, {x, w, b}));
}

TEST(ConvGrad, DepthwiseOnPermutedInputAndWeight) {
  Tensor x = random_tensor({2, 7, 5, 3}, 12).set_requires_grad();  // [B, H, W, C]
  Tensor w = random_tensor({3, 3, 3, 1}, 13).set_requires_grad();  // [kh, kw, C, 1]
  Tensor b = random_tensor({3}, 14).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv2d(in[0].permute({0, 3, 1, 2}), in[1].permute({2, 3, 0, 1}), in[2], {1, 1}, {1, 1}, 3);
      },
      {x, w, b}));
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv2d(in[0].permute({0, 3, 1, 2}), in[1].permute({2, 3, 0, 1}), Tensor(), {2, 3}, {1, 0}, 3);
      },
      {x, w}));
}

TEST(ConvGrad, OnlyTheWeightOrOnlyTheInputTrainable) {
  Tensor x = random_tensor({1, 2, 5, 5}, 15);
  Tensor w = random_tensor({2, 2, 3, 3}, 16).set_requires_grad();
  EXPECT_TRUE(gradients_match([&](const auto& in) { return conv2d(x, in[0], Tensor(), {1, 1}, {1, 1}); }, {w}));
  Tensor xt = random_tensor({1, 2, 5, 5}, 17).set_requires_grad();
  Tensor wf = random_tensor({2, 1, 3, 3}, 18);
  EXPECT_TRUE(gradients_match([&](const auto& in) { return conv2d(in[0], wf, Tensor(), {1, 1}, {1, 1}, 2); }, {xt}));
}

TEST(ConvGrad, UnbatchedConv2d) {
  Tensor x = random_tensor({2, 5, 6}, 19).set_requires_grad();
  Tensor w = random_tensor({3, 2, 2, 3}, 20).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return conv2d(in[0], in[1], Tensor(), {2, 1}, {1, 1}); }, {x, w}));
}

TEST(ConvGrad, Conv3dGeneralOnAPermutedView) {
  Tensor x = random_tensor({2, 3, 7, 6, 2}, 21).set_requires_grad();  // stored [B, T, H, W, C]
  Tensor w = random_tensor({4, 2, 2, 3, 3}, 22).set_requires_grad();
  Tensor b = random_tensor({4}, 23).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv3d(in[0].permute({0, 4, 1, 2, 3}), in[1], in[2], {1, 2, 2}, {1, 1, 0});
      },
      {x, w, b}));
}

TEST(ConvGrad, Conv3dTubeletAndDepthwise) {
  Tensor x = random_tensor({2, 3, 3, 8, 8}, 24).set_requires_grad();
  Tensor w = random_tensor({4, 3, 1, 4, 4}, 25).set_requires_grad();
  Tensor b = random_tensor({4}, 26).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return conv3d(in[0], in[1], in[2], {1, 4, 4}); }, {x, w, b}));
  Tensor wd = random_tensor({3, 1, 3, 3, 3}, 27).set_requires_grad();
  Tensor bd = random_tensor({3}, 28).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return conv3d(in[0].slice(3, 0, 7), in[1], in[2], {2, 1, 2}, {1, 1, 1}, 3);
      },
      {x, wd, bd}));
}

}  // namespace
}  // namespace vg
