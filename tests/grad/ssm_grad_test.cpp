// Finite-difference checks of the selective scan and causal conv1d gradients for every input,
// on odd sizes, non-contiguous views (transposes, strided slices, flips) and grouped B/C.
#include <gtest/gtest.h>

#include "ops/ssm.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::GradCheckOptions;
using testing::gradients_match;
using testing::random_tensor;
using testing::uniform_tensor;

Tensor negative_a(const Shape& shape, uint64_t seed) {
  return mul(uniform_tensor(shape, seed, 0.2, 1.5), -1.0).contiguous().set_requires_grad();
}

TEST(SelectiveScanGrad, EveryInputWithSoftplusGateSkipAndBias) {
  // B=2, D=3, N=5, L=7. u and z arrive as transposed [B, L, D] storage, delta as every other
  // step of a longer sequence, B as a transposed [B, L, N].
  Tensor ut = random_tensor({2, 7, 3}, 1).set_requires_grad();
  Tensor delta2 = random_tensor({2, 3, 14}, 2).set_requires_grad();
  Tensor A = negative_a({3, 5}, 3);
  Tensor Bt = random_tensor({2, 7, 5}, 4).set_requires_grad();
  Tensor C = random_tensor({2, 5, 7}, 5).set_requires_grad();
  Tensor D = random_tensor({3}, 6).set_requires_grad();
  Tensor zt = random_tensor({2, 7, 3}, 7).set_requires_grad();
  Tensor bias = random_tensor({3}, 8).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return selective_scan(in[0].transpose(1, 2), in[1].slice(2, 0, 14, 2), in[2], in[3].transpose(1, 2), in[4],
                              in[5], in[6].transpose(1, 2), in[7], true);
      },
      {ut, delta2, A, Bt, C, D, zt, bias}));
}

TEST(SelectiveScanGrad, NoOptionalInputsAndFlippedSequence) {
  // The bidirectional mixer's backward branch: the sequence reversed before the scan.
  Tensor u = random_tensor({1, 4, 6}, 10).set_requires_grad();
  Tensor delta = uniform_tensor({1, 4, 6}, 11, 0.1, 1.0).set_requires_grad();
  Tensor A = negative_a({4, 3}, 12);
  Tensor B = random_tensor({1, 3, 6}, 13).set_requires_grad();
  Tensor C = random_tensor({1, 3, 6}, 14).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return flip(selective_scan(flip(in[0], {2}), flip(in[1], {2}), in[2], flip(in[3], {2}), flip(in[4], {2})), {2});
      },
      {u, delta, A, B, C}));
}

TEST(SelectiveScanGrad, GroupedBAndC) {
  // G=3 over D=6 (two channels per group), B given as a [B, G, L, N] transpose.
  Tensor u = random_tensor({2, 6, 5}, 20).set_requires_grad();
  Tensor delta = random_tensor({2, 6, 5}, 21).set_requires_grad();
  Tensor A = negative_a({6, 2}, 22);
  Tensor Bt = random_tensor({2, 3, 5, 2}, 23).set_requires_grad();
  Tensor C = random_tensor({2, 3, 2, 5}, 24).set_requires_grad();
  Tensor D = random_tensor({6}, 25).set_requires_grad();
  Tensor z = random_tensor({2, 6, 5}, 26).set_requires_grad();
  Tensor bias = random_tensor({6}, 27).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        return selective_scan(in[0], in[1], in[2], in[3].transpose(2, 3), in[4], in[5], in[6], in[7], true);
      },
      {u, delta, A, Bt, C, D, z, bias}));
}

TEST(SelectiveScanGrad, SoftplusLinearBranch) {
  // Pre-softplus deltas in [21, 23]: softplus is the identity there, with derivative 1.
  Tensor u = random_tensor({1, 3, 5}, 30).set_requires_grad();
  Tensor delta = uniform_tensor({1, 3, 5}, 31, 21.0, 23.0).set_requires_grad();
  Tensor A = mul(uniform_tensor({3, 2}, 32, 0.01, 0.05), -1.0).contiguous().set_requires_grad();
  Tensor B = random_tensor({1, 2, 5}, 33).set_requires_grad();
  Tensor C = random_tensor({1, 2, 5}, 34).set_requires_grad();
  Tensor bias = uniform_tensor({3}, 35, -0.5, 0.5).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], Tensor(), Tensor(), in[5], true); },
      {u, delta, A, B, C, bias}));
}

TEST(SelectiveScanGrad, ManyChannelsPerGroupSumIntoBAndC) {
  // 130 channels share one group, so the backward splits them into slices whose partial dB/dC
  // are reduced afterwards; batch 2 exercises the reduction of dA, dD and ddelta_bias.
  Tensor u = random_tensor({2, 130, 3}, 40).set_requires_grad();
  Tensor delta = random_tensor({2, 130, 3}, 41).set_requires_grad();
  Tensor A = negative_a({130, 2}, 42);
  Tensor B = random_tensor({2, 2, 3}, 43).set_requires_grad();
  Tensor C = random_tensor({2, 2, 3}, 44).set_requires_grad();
  Tensor D = random_tensor({130}, 45).set_requires_grad();
  Tensor bias = random_tensor({130}, 46).set_requires_grad();
  GradCheckOptions o;
  o.max_elements = 24;  // per input; each sample runs two forwards
  EXPECT_TRUE(gradients_match(
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], in[5], Tensor(), in[6], true); },
      {u, delta, A, B, C, D, bias}, o));
}

TEST(SelectiveScanGrad, OnlySomeInputsTrainable) {
  // Frozen inputs get no gradient buffers; the others must still be right.
  Tensor u = random_tensor({1, 2, 4}, 50);
  Tensor delta = random_tensor({1, 2, 4}, 51);
  Tensor A = negative_a({2, 3}, 52);
  Tensor B = random_tensor({1, 3, 4}, 53);
  Tensor C = random_tensor({1, 3, 4}, 54);
  Tensor z = random_tensor({1, 2, 4}, 55).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) { return selective_scan(in[0], in[1], in[2], in[3], in[4], Tensor(), in[5], Tensor(), true); },
      {u, delta, A, B, C, z}));
}

TEST(CausalConv1dGrad, WidthFourWithBiasAndSilu) {
  Tensor xt = random_tensor({2, 9, 3}, 60).set_requires_grad();  // transposed [B, L, D]
  Tensor w = random_tensor({3, 4}, 61).set_requires_grad();
  Tensor b = random_tensor({3}, 62).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return causal_conv1d(in[0].transpose(1, 2), in[1], in[2], true); },
                              {xt, w, b}));
}

TEST(CausalConv1dGrad, OtherWidthsWithoutBias) {
  Tensor x = random_tensor({3, 5, 7}, 70).set_requires_grad();
  for (int64_t width : {1, 3, 9}) {  // 9 > L: the early taps only ever see the zero padding
    Tensor w = random_tensor({5, width}, 71).set_requires_grad();
    EXPECT_TRUE(gradients_match([](const auto& in) { return causal_conv1d(in[0], in[1]); }, {x, w}))
        << "width " << width;
    EXPECT_TRUE(gradients_match([](const auto& in) { return causal_conv1d(in[0], in[1], Tensor(), true); }, {x, w}))
        << "width " << width << " with silu";
  }
}

}  // namespace
}  // namespace vg
