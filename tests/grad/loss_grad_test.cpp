// Finite-difference checks of the fused softcap + cross-entropy gradients.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(LossGrad, SoftcapCrossEntropyForHiddenAndWeight) {
  Tensor h = random_tensor({2, 3, 5}, 1).set_requires_grad();
  Tensor w = random_tensor({9, 5}, 2).set_requires_grad();
  Tensor labels = Tensor::from_vector<int64_t>({8, -100, 0, 4, 4, -100}, {2, 3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    EXPECT_TRUE(gradients_match(
        [&](const auto& in) {
          return softcap_cross_entropy(in[0], in[1], labels, {2.0, -100, r, 4});
        },
        {h, w}));
  }
  EXPECT_TRUE(gradients_match(
      [&](const auto& in) { return softcap_cross_entropy(in[0].transpose(0, 1), in[1], labels.transpose(0, 1)); },
      {h, w}));
}

}  // namespace
}  // namespace vg
