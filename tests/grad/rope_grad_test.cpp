// Finite-difference checks of the RoPE gradient on views and broadcast tables.
#include <gtest/gtest.h>

#include "ops/rope.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;

TEST(RopeGrad, HeadsInnerViewWithBroadcastTables) {
  // x leaf [B, H, T, D] = [2, 3, 5, 6], rotated as the [B, T, H, D] view with tables [T, 1, D].
  Tensor x = random_tensor({2, 3, 5, 6}, 1).set_requires_grad();
  auto [c, s] = rope_tables(Tensor::from_vector<int64_t>({4, 9, 2, 7, 11}, {5}), 6, 1e4, DType::F64);
  Tensor c3 = c.unsqueeze(1), s3 = s.unsqueeze(1);
  EXPECT_TRUE(gradients_match([&](const auto& in) { return apply_rope(in[0].transpose(1, 2), c3, s3); }, {x}));
  EXPECT_TRUE(gradients_match([&](const auto& in) { return apply_rope(in[0], c, s); }, {x}));
}

TEST(RopeGrad, StridedSliceAndTablesNeverGetGradients) {
  Tensor x = random_tensor({7, 10}, 2).set_requires_grad();
  Tensor c = random_tensor({4}, 3).set_requires_grad(), s = random_tensor({4}, 4).set_requires_grad();
  // Tables are constants: only x gets a gradient, even when the tables are trainable leaves.
  Tensor y = apply_rope(x.slice(1, 1, 9, 2), c, s);
  y.backward(ones_like(y));
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(c.grad().defined());
  x.zero_grad();
  EXPECT_TRUE(gradients_match(
      [&](const auto& in) { return apply_rope(in[0].slice(1, 1, 9, 2), c.detach(), s.detach()); }, {x}));
}

}  // namespace
}  // namespace vg
