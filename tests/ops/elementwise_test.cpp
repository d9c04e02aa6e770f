// Elementwise ops against PyTorch goldens (tools/reference/make_op_goldens.py), plus exact
// hand-derived values and broadcasting/dtype rules.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;

const std::map<std::string, std::function<Tensor(const Tensor&)>>& unary_cases() {
  static const std::map<std::string, std::function<Tensor(const Tensor&)>> cases = {
      {"neg", neg},
      {"abs", abs},
      {"square", square},
      {"sqrt", sqrt},
      {"rsqrt", rsqrt},
      {"reciprocal", reciprocal},
      {"exp", exp},
      {"log", log},
      {"sin", sin},
      {"cos", cos},
      {"tanh", tanh},
      {"sigmoid", sigmoid},
      {"silu", silu},
      {"softplus", softplus},
      {"relu", relu},
      {"gelu", gelu},
      {"gelu_tanh", gelu_tanh},
      {"quick_gelu", quick_gelu},
      {"softcap", [](const Tensor& x) { return softcap(x, 2.5); }},
      {"pow", [](const Tensor& x) { return pow(x, 2.7); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }},
      {"add_scalar", [](const Tensor& x) { return x + 1.5; }},
      {"mul_scalar", [](const Tensor& x) { return x * -2.25; }},
  };
  return cases;
}

class ElementwiseGolden : public ::testing::TestWithParam<DType> {};

TEST_P(ElementwiseGolden, UnaryOpsMatchPyTorch) {
  io::SafetensorsFile g = open_golden("ops/elementwise.safetensors");
  for (const auto& [name, fn] : unary_cases()) {
    check_golden_case(
        g, name, {"x"}, [&fn](const auto& in) { return fn(in[0]); }, GetParam());
  }
}

TEST_P(ElementwiseGolden, BinaryOpsBroadcastLikePyTorch) {
  io::SafetensorsFile g = open_golden("ops/elementwise.safetensors");
  const std::map<std::string, std::function<Tensor(const Tensor&, const Tensor&)>> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }},
      {"maximum", maximum},
      {"minimum", minimum},
      {"pow_tensor", [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
      {"maximum_ties", maximum},
  };
  for (const auto& [name, fn] : cases) {
    check_golden_case(
        g, name, {"a", "b"}, [&fn](const auto& in) { return fn(in[0], in[1]); }, GetParam());
  }
  check_golden_case(
      g, "where", {"cond", "a", "b"}, [](const auto& in) { return where(in[0], in[1], in[2]); }, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ElementwiseGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Elementwise, HandDerivedValues) {
  Tensor x = Tensor::from_vector<double>({-1.0, 0.0, 2.0}, {3});
  EXPECT_EQ(relu(x).to_vector<double>(), (std::vector<double>{0.0, 0.0, 2.0}));
  EXPECT_EQ(abs(x).to_vector<double>(), (std::vector<double>{1.0, 0.0, 2.0}));
  EXPECT_EQ(clamp(x, -0.5, 1.0).to_vector<double>(), (std::vector<double>{-0.5, 0.0, 1.0}));
  EXPECT_DOUBLE_EQ(sigmoid(x).to_vector<double>()[1], 0.5);
  EXPECT_DOUBLE_EQ(gelu(x).to_vector<double>()[2], 2.0 * 0.5 * (1.0 + std::erf(2.0 / std::sqrt(2.0))));
  EXPECT_DOUBLE_EQ(softplus(full({1}, 30.0, DType::F64)).item(), 30.0);  // linear above the threshold
}

TEST(Elementwise, BroadcastShapesAndErrors) {
  Tensor a = zeros({3, 1, 5});
  Tensor b = zeros({4, 5});
  EXPECT_EQ((a + b).shape(), (Shape{3, 4, 5}));
  EXPECT_THROW(add(zeros({3}), zeros({4})), Error);
  EXPECT_THROW(add(zeros({3}), zeros({3}, DType::F64)), Error);
  EXPECT_THROW(exp(zeros({3}, DType::I64)), Error);
  EXPECT_THROW(softcap(zeros({3}), 0.0), Error);
  try {
    add(zeros({3}), zeros({4}));
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "[add] shapes [3] and [4] cannot be broadcast together");
  }
}

TEST(Elementwise, StridedAndBroadcastOperands) {
  // A transposed view times a broadcast row: checks the strided loop against plain arithmetic.
  Tensor m = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor row = Tensor::from_vector<double>({10, 100}, {2});
  Tensor y = mul(m.transpose(0, 1), row);  // [3, 2]
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{10, 400, 20, 500, 30, 600}));
  Tensor s = m.slice(1, 0, 3, 2);  // columns 0 and 2
  EXPECT_EQ(neg(s).to_vector<double>(), (std::vector<double>{-1, -3, -4, -6}));
}

TEST(Elementwise, ComparisonsAndWhere) {
  Tensor a = Tensor::from_vector<float>({1, 5, 3}, {3});
  Tensor b = Tensor::from_vector<float>({2, 5, 1}, {3});
  EXPECT_EQ(lt(a, b).dtype(), DType::Bool);
  EXPECT_EQ(lt(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(ge(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(where(gt(a, b), a, b).to_vector<float>(), (std::vector<float>{2, 5, 3}));
  EXPECT_THROW(where(a, a, b), Error);  // the condition must be bool or u8
}

TEST(Elementwise, InPlaceOpsRefuseTrainableTensors) {
  Tensor p = zeros({3}).set_requires_grad();
  EXPECT_THROW(add_(p, ones({3})), Error);
  {
    NoGradGuard no_grad;
    add_(p, ones({3}), 2.0);
    mul_(p, 0.5);
  }
  EXPECT_EQ(p.to_vector<float>(), (std::vector<float>{1, 1, 1}));
}

TEST(Elementwise, CopyConvertsBetweenDtypes) {
  Tensor x = Tensor::from_vector<float>({1.5f, -2.0f, 3.140625f}, {3});
  EXPECT_EQ(x.to(DType::BF16).to(DType::F32).to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 3.140625f}));
  EXPECT_EQ(x.to(DType::F16).to(DType::F64).to_vector<double>(), (std::vector<double>{1.5, -2.0, 3.140625}));
  EXPECT_EQ(x.to(DType::I32).to_vector<int32_t>(), (std::vector<int32_t>{1, -2, 3}));
  Tensor big = Tensor::from_vector<int64_t>({(1LL << 62) + 1}, {1});
  EXPECT_EQ(big.to(DType::I64).to_vector<int64_t>()[0], (1LL << 62) + 1);
  EXPECT_EQ(big.to(DType::I32).to(DType::I64).to_vector<int64_t>()[0], 1);  // wraps like a C cast
}

}  // namespace
}  // namespace vg
