// Finite-difference checks of every elementwise gradient, on odd sizes, broadcasting and
// non-contiguous views.
#include <gtest/gtest.h>

#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::gradients_match;
using testing::random_tensor;
using testing::uniform_tensor;

TEST(ElementwiseGrad, EveryUnaryOpOnATransposedView) {
  // Inputs kept away from 0 (relu/abs kinks) and clamp bounds; positive inputs where needed.
  Tensor x = random_tensor({5, 3}, 1, DType::F64, 0.05).set_requires_grad();
  Tensor pos = uniform_tensor({5, 3}, 2, 0.3, 2.5).set_requires_grad();
  const std::vector<std::pair<UnaryOp, UnaryParams>> any_sign = {
      {UnaryOp::Neg, {}},
      {UnaryOp::Abs, {}},
      {UnaryOp::Square, {}},
      {UnaryOp::Exp, {}},
      {UnaryOp::Sin, {}},
      {UnaryOp::Cos, {}},
      {UnaryOp::Tanh, {}},
      {UnaryOp::Sigmoid, {}},
      {UnaryOp::Silu, {}},
      {UnaryOp::Softplus, {}},
      {UnaryOp::Relu, {}},
      {UnaryOp::Gelu, {}},
      {UnaryOp::GeluTanh, {}},
      {UnaryOp::QuickGelu, {}},
      {UnaryOp::Softcap, {1.7, 0}},
      {UnaryOp::AddScalar, {0.3, 0}},
      {UnaryOp::MulScalar, {-1.9, 0}},
      {UnaryOp::Clamp, {-0.77, 0.81}},
  };
  for (const auto& [op, params] : any_sign) {
    SCOPED_TRACE(unary_op_name(op));
    EXPECT_TRUE(
        gradients_match([op, params](const auto& in) { return unary(op, in[0].transpose(0, 1), params); }, {x}));
  }
  for (UnaryOp op : {UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::Reciprocal, UnaryOp::Log}) {
    SCOPED_TRACE(unary_op_name(op));
    EXPECT_TRUE(gradients_match([op](const auto& in) { return unary(op, in[0].transpose(0, 1)); }, {pos}));
  }
  EXPECT_TRUE(gradients_match([](const auto& in) { return pow(in[0], 2.3); }, {pos}));
}

TEST(ElementwiseGrad, SoftplusAboveItsThreshold) {
  Tensor x = uniform_tensor({7}, 3, 19.0, 22.0).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return softplus(in[0]); }, {x}));
}

TEST(ElementwiseGrad, BinaryOpsWithBroadcasting) {
  Tensor a = random_tensor({3, 1, 5}, 4).set_requires_grad();
  Tensor b = random_tensor({4, 5}, 5, DType::F64, 0.3).set_requires_grad();
  for (BinaryOp op :
       {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Maximum, BinaryOp::Minimum}) {
    SCOPED_TRACE(binary_op_name(op));
    EXPECT_TRUE(gradients_match([op](const auto& in) { return binary(op, in[0], in[1]); }, {a, b}));
  }
  Tensor base = uniform_tensor({3, 1, 5}, 6, 0.5, 2.0).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return pow(in[0], in[1]); }, {base, b}));
}

TEST(ElementwiseGrad, StridedSlicesAndScalarBroadcast) {
  Tensor a = random_tensor({6, 7}, 7).set_requires_grad();
  Tensor s = random_tensor({}, 8).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return mul(in[0].slice(1, 1, 7, 3), in[1]); }, {a, s}));
}

TEST(ElementwiseGrad, WhereRoutesGradients) {
  Tensor cond = gt(random_tensor({3, 1}, 9), zeros({1}, DType::F64));
  Tensor a = random_tensor({3, 4}, 10).set_requires_grad();
  Tensor b = random_tensor({4}, 11).set_requires_grad();
  EXPECT_TRUE(gradients_match([cond](const auto& in) { return where(cond, in[0], in[1]); }, {a, b}));
}

TEST(ElementwiseGrad, DtypeCastsPassGradientsThrough) {
  Tensor x = random_tensor({4}, 12).set_requires_grad();
  EXPECT_TRUE(gradients_match([](const auto& in) { return exp(in[0].to(DType::F32)).to(DType::F64); }, {x},
                              {1e-4, 1e-3, 1e-5, 64}));
}

}  // namespace
}  // namespace vg
