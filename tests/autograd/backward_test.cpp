#include <gtest/gtest.h>

#include "ops/ops.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::random_tensor;

TEST(Backward, ChainRuleOnAScalar) {
  // y = sum(x * x + 3x) -> dy/dx = 2x + 3
  Tensor x = Tensor::from_vector<double>({1.0, -2.0, 0.5}, {3}).set_requires_grad();
  Tensor y = sum(add(mul(x, x), mul(x, 3.0)));
  y.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5.0, -1.0, 4.0}));
}

TEST(Backward, GradientsAccumulateAcrossCalls) {
  Tensor x = Tensor::from_vector<double>({2.0}, {1}).set_requires_grad();
  sum(mul(x, 4.0)).backward();
  sum(mul(x, 4.0)).backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 8.0);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Backward, OnlyTrainableTensorsAreRecorded) {
  Tensor frozen = random_tensor({4}, 1);
  Tensor y = exp(frozen);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(sum(y).backward(), Error);
}

TEST(Backward, NoGradGuardStopsRecording) {
  Tensor x = random_tensor({3}, 2).set_requires_grad();
  {
    NoGradGuard guard;
    EXPECT_FALSE(exp(x).requires_grad());
  }
  EXPECT_TRUE(exp(x).requires_grad());
}

TEST(Backward, SharedInputGetsBothContributions) {
  // y = sum(x * x): the same tensor is both operands.
  Tensor x = Tensor::from_vector<double>({3.0, -1.0}, {2}).set_requires_grad();
  sum(mul(x, x)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6.0, -2.0}));
}

TEST(Backward, SecondBackwardWithoutRetainIsAnError) {
  Tensor x = random_tensor({3}, 3).set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward();
  EXPECT_THROW(y.backward(), Error);
}

TEST(Backward, RetainGraphAllowsASecondBackward) {
  Tensor x = random_tensor({3}, 4).set_requires_grad();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), true);
  Tensor first = x.grad().clone();
  y.backward();
  EXPECT_ALL_CLOSE(x.grad(), mul(first, 2.0), 1e-15, 0);
}

TEST(Backward, NonScalarRootNeedsAGradient) {
  Tensor x = random_tensor({3}, 5).set_requires_grad();
  EXPECT_THROW(exp(x).backward(), Error);
}

TEST(Backward, SetRequiresGradOnNonLeafIsAnError) {
  Tensor x = random_tensor({3}, 6).set_requires_grad();
  Tensor y = exp(x);
  EXPECT_THROW(y.set_requires_grad(), Error);
  EXPECT_THROW(Tensor::from_vector<int64_t>({1}, {1}).set_requires_grad(), Error);
}

}  // namespace
}  // namespace vg
