// Finite-difference checks of the softmax, normalisation and dropout gradients, on odd sizes,
// non-contiguous views and broadcast parameters.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(NnGrad, SoftmaxOverEachDimOfATransposedView) {
  Tensor x = random_tensor({5, 3, 4}, 1).set_requires_grad();
  for (int dim : {0, 1, 2}) {
    EXPECT_TRUE(gradients_match([dim](const auto& in) { return softmax(in[0].transpose(0, 2), dim); }, {x}));
    EXPECT_TRUE(gradients_match([dim](const auto& in) { return log_softmax(in[0].transpose(0, 2), dim); }, {x}));
  }
}

TEST(NnGrad, LayerNormWithAndWithoutAffine) {
  Tensor x = random_tensor({3, 7}, 2).set_requires_grad();
  Tensor w = random_tensor({7}, 3).set_requires_grad();
  Tensor b = random_tensor({7}, 4).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); }, {x, w, b}));
  EXPECT_TRUE(
      gradients_match([](const auto& in) { return layer_norm(in[0].slice(1, 0, 7, 2), Tensor(), Tensor()); }, {x}));
}

TEST(NnGrad, RmsNormWithAndWithoutWeight) {
  Tensor x = random_tensor({4, 9}, 5).set_requires_grad();
  Tensor w = random_tensor({4}, 6).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return rms_norm(in[0].transpose(0, 1), in[1], 1e-6); }, {x, w}));
  EXPECT_TRUE(gradients_match([](const auto& in) { return rms_norm(in[0], Tensor(), 1e-6); }, {x}));
}

TEST(NnGrad, DropoutWithAFixedSeed) {
  Tensor x = random_tensor({6, 5}, 7).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        Generator gen(11);
        return dropout(in[0], 0.3, true, gen);
      },
      {x}));
}

TEST(NnGrad, GatedGeluMatchesItsCompositionAndDifferences) {
  Tensor gate = random_tensor({3, 11}, 50).set_requires_grad();
  Tensor up = random_tensor({3, 11}, 51).set_requires_grad();
  EXPECT_TRUE(testing::close_relative(gated_gelu(gate, up), mul(gelu_tanh(gate), up), 1e-12));
  EXPECT_TRUE(gradients_match([](const auto& in) { return gated_gelu(in[0].transpose(0, 1), in[1].transpose(0, 1)); },
                              {gate, up}));
  testing::expect_error([&] { (void)gated_gelu(gate, random_tensor({3, 10}, 52)); }, {"gated_gelu", "must match"});
}

}  // namespace
}  // namespace vg
