// Softmax and normalisation against PyTorch goldens (tools/reference/make_op_goldens.py).
#include <gtest/gtest.h>

#include "support/golden_case.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;
using testing::random_tensor;

class NnGolden : public ::testing::TestWithParam<DType> {};

TEST_P(NnGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/nn.safetensors");
  check_golden_case(
      g, "softmax_last", {"x"}, [](const auto& in) { return softmax(in[0], -1); }, dt);
  check_golden_case(
      g, "softmax_dim1", {"x"}, [](const auto& in) { return softmax(in[0], 1); }, dt);
  check_golden_case(
      g, "log_softmax_last", {"x"}, [](const auto& in) { return log_softmax(in[0], -1); }, dt);
  check_golden_case(
      g, "layer_norm", {"x", "w", "b"}, [](const auto& in) { return layer_norm(in[0], in[1], in[2], 1e-5); }, dt);
  check_golden_case(
      g, "layer_norm_plain", {"x"}, [](const auto& in) { return layer_norm(in[0], Tensor(), Tensor(), 1e-5); }, dt);
  check_golden_case(
      g, "rms_norm", {"x", "w"}, [](const auto& in) { return rms_norm(in[0], in[1], 1e-6); }, dt);
  check_golden_case(
      g, "rms_norm_plain", {"x"}, [](const auto& in) { return rms_norm(in[0], Tensor(), 1e-6); }, dt);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, NnGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Softmax, RowsSumToOneAndSurviveHugeInputs) {
  Tensor x = Tensor::from_vector<float>({1000.f, 1001.f, 1002.f, -1000.f, 0.f, 1000.f}, {2, 3});
  std::vector<float> y = softmax(x, -1).to_vector<float>();
  EXPECT_NEAR(y[0] + y[1] + y[2], 1.0f, 1e-6f);
  EXPECT_NEAR(y[2], 0.66524096f, 1e-6f);  // e^2 / (1 + e + e^2)
  EXPECT_NEAR(y[5], 1.0f, 1e-6f);
}

TEST(RmsNorm, RejectsAMismatchedWeight) {
  Tensor x = zeros({2, 8});
  EXPECT_THROW(rms_norm(x, ones({7})), Error);
  EXPECT_THROW(rms_norm(x, ones({8}, DType::F64)), Error);
}

TEST(Dropout, IsDeterministicPerSeedAndScalesKeptValues) {
  Tensor x = ones({4000});
  Generator g1(7), g2(7), g3(8);
  std::vector<float> a = dropout(x, 0.25, true, g1).to_vector<float>();
  std::vector<float> b = dropout(x, 0.25, true, g2).to_vector<float>();
  std::vector<float> c = dropout(x, 0.25, true, g3).to_vector<float>();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int zeros_seen = 0;
  for (float v : a) {
    if (v == 0.0f) {
      ++zeros_seen;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  // 1000 expected; the binomial standard deviation is about 27.
  EXPECT_GT(zeros_seen, 850);
  EXPECT_LT(zeros_seen, 1150);
  EXPECT_TRUE(dropout(x, 0.25, false, g1).is_same(x));
  // The one-pass kernel keeps exactly where rand's draw from the same counters is >= p.
  Generator g4(9), g5(9);
  const Tensor y = random_tensor({3, 1001}, 4, DType::F32);
  const Tensor u = rand({3, 1001}, g4);
  const Tensor expected = where(ge(u, full_like(u, 0.25)), mul(y, 1.0 / 0.75), zeros_like(y));
  EXPECT_EQ(dropout(y, 0.25, true, g5).to_vector<float>(), expected.to_vector<float>());
  EXPECT_EQ(g4.reserve(0), g5.reserve(0));  // and advances the generator as far
  EXPECT_THROW(dropout(x, 1.5, true, g1), Error);
}

}  // namespace
}  // namespace vg
