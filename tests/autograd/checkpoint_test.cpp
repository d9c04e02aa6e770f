// Gradient checkpointing: the same gradients as running the block normally, for inputs and
// for parameters used inside the block, with dropout replayed identically.
#include <gtest/gtest.h>

#include "autograd/node.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::random_tensor;

// A small block with a parameter, a nonlinearity and dropout.
Tensor block(const Tensor& x, const Tensor& w) { return dropout(gelu(linear(x, w)), 0.3, true); }

TEST(Checkpoint, MatchesTheUncheckpointedGradients) {
  Tensor x = random_tensor({4, 6}, 1).set_requires_grad();
  Tensor w = random_tensor({6, 6}, 2).set_requires_grad();
  Generator::default_generator().manual_seed(99);
  Tensor plain = sum(block(block(x, w), w));
  plain.backward();
  Tensor gx = x.grad().clone(), gw = w.grad().clone();
  x.zero_grad();
  w.zero_grad();

  Generator::default_generator().manual_seed(99);
  auto step = [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{block(in[0], w)}; };
  Tensor h = autograd::checkpoint(step, {x})[0];
  Tensor ckpt = sum(autograd::checkpoint(step, {h})[0]);
  EXPECT_EQ(ckpt.item(), plain.item());
  ckpt.backward();
  EXPECT_ALL_CLOSE(x.grad(), gx, 1e-12, 1e-14);
  EXPECT_ALL_CLOSE(w.grad(), gw, 1e-12, 1e-14);
}

TEST(Checkpoint, ParametersGetGradientsEvenWhenInputsAreFrozen) {
  Tensor x = random_tensor({3, 5}, 3);
  Tensor w = random_tensor({2, 5}, 4).set_requires_grad();
  Tensor y = autograd::checkpoint([&](const auto& in) { return std::vector<Tensor>{linear(in[0], w)}; }, {x})[0];
  sum(y).backward();
  // d sum(x w^T) / dw = column sums of x, for every output row.
  Tensor expected = sum(x, 0, true).expand({2, 5});
  EXPECT_ALL_CLOSE(w.grad(), expected, 1e-12, 1e-14);
}

TEST(Checkpoint, DoesNotSaveBlockActivations) {
  // Under checkpointing the outputs hang off one node; nothing inside the block is recorded.
  Tensor x = random_tensor({3, 3}, 5).set_requires_grad();
  Tensor y = autograd::checkpoint([](const auto& in) { return std::vector<Tensor>{exp(exp(in[0]))}; }, {x})[0];
  ASSERT_TRUE(y.requires_grad());
  EXPECT_EQ(y.impl()->grad_fn->name, "checkpoint");
  sum(y).backward();
  EXPECT_ALL_CLOSE(x.grad(), mul(exp(exp(x.detach())), exp(x.detach())), 1e-12, 1e-14);
}

}  // namespace
}  // namespace vg
