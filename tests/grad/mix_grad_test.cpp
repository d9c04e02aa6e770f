// add_mixed (AltUp's fused predict and correct): the forward against the same sums written with
// mul and add, and every gradient against central differences, including a tensor that is both
// an x and a y (predict) and transposed views.
#include <gtest/gtest.h>

#include "ops/ops.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::close_relative;
using testing::gradients_match;
using testing::random_tensor;

// out_i = x_i + sum_j c[..., i * M + j] * y_j with separate ops.
std::vector<Tensor> composed(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor& c) {
  const auto m = static_cast<int64_t>(y.size());
  std::vector<Tensor> out;
  for (size_t i = 0; i < x.size(); ++i) {
    Tensor o = x[i];
    for (int64_t j = 0; j < m; ++j) o = add(o, mul(c.narrow(-1, static_cast<int64_t>(i) * m + j, 1), y[static_cast<size_t>(j)]));
    out.push_back(o);
  }
  return out;
}

TEST(MixGrad, PredictMatchesTheComposedSumsAndItsGradients) {
  // Four streams [2, 3, 5] mixed by per-token [2, 3, 16] coefficients, each stream both x and y.
  std::vector<Tensor> s;
  for (uint64_t i = 0; i < 4; ++i) s.push_back(random_tensor({2, 3, 5}, 10 + i).set_requires_grad());
  Tensor c = random_tensor({2, 3, 16}, 20).set_requires_grad();
  const std::vector<Tensor> fused = add_mixed(s, s, c), expected = composed(s, s, c);
  ASSERT_EQ(fused.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(close_relative(fused[i], expected[i], 1e-12));
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        std::vector<Tensor> streams(in.begin(), in.begin() + 4);
        return concat(add_mixed(streams, streams, in[4]), -1);
      },
      {s[0], s[1], s[2], s[3], c}));
}

TEST(MixGrad, CorrectWithOneTermOnTransposedViews) {
  // Three predictions plus a per-row multiple of one innovation; inputs are transposed views.
  std::vector<Tensor> p;
  for (uint64_t i = 0; i < 3; ++i) p.push_back(random_tensor({4, 6}, 30 + i).set_requires_grad());
  Tensor innovation = random_tensor({4, 6}, 40).set_requires_grad();
  Tensor scale = random_tensor({6, 3}, 41).set_requires_grad();
  EXPECT_TRUE(gradients_match(
      [](const auto& in) {
        std::vector<Tensor> x{in[0].transpose(0, 1), in[1].transpose(0, 1), in[2].transpose(0, 1)};
        return concat(add_mixed(x, {in[3].transpose(0, 1)}, in[4]), -1);
      },
      {p[0], p[1], p[2], innovation, scale}));
}

TEST(MixGrad, RejectsMismatchedOperands) {
  const Tensor a = random_tensor({2, 4}, 1), b = random_tensor({2, 5}, 2);
  testing::expect_error([&] { (void)add_mixed({a}, {b}, random_tensor({2, 1}, 3)); }, {"add_mixed", "must match"});
  testing::expect_error([&] { (void)add_mixed({a, a}, {a}, random_tensor({2, 3}, 3)); },
                        {"add_mixed", "coefficients must be"});
  std::vector<Tensor> many(9, a);
  testing::expect_error([&] { (void)add_mixed(many, {a}, random_tensor({2, 9}, 3)); }, {"add_mixed", "at most 8"});
}

}  // namespace
}  // namespace vg
