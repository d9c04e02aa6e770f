// Reductions against PyTorch goldens and hand-derived values.
#include <gtest/gtest.h>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;

class ReduceGolden : public ::testing::TestWithParam<DType> {};

TEST_P(ReduceGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/reduce.safetensors");
  check_golden_case(
      g, "sum_dim1", {"x"}, [](const auto& in) { return sum(in[0], 1); }, dt);
  check_golden_case(
      g, "sum_dims02_keep", {"x"},
      [](const auto& in) {
        return sum(in[0], {0, 2}, true);
      },
      dt);
  check_golden_case(
      g, "sum_all", {"x"}, [](const auto& in) { return sum(in[0]); }, dt);
  check_golden_case(
      g, "mean_dim2", {"x"}, [](const auto& in) { return mean(in[0], 2); }, dt);
  check_golden_case(
      g, "mean_all", {"x"}, [](const auto& in) { return mean(in[0]); }, dt);
  check_golden_case(
      g, "max_dim1", {"x"}, [](const auto& in) { return max(in[0], 1); }, dt);
  check_golden_case(
      g, "min_dim0_keep", {"x"}, [](const auto& in) { return min(in[0], 0, true); }, dt);
  check_golden_case(
      g, "var_dim2", {"x"}, [](const auto& in) { return var(in[0], 2); }, dt);
  check_golden_case(
      g, "var_dim1_pop", {"x"}, [](const auto& in) { return var(in[0], 1, 0); }, dt);
  check_golden_case(
      g, "std_dim2", {"x"}, [](const auto& in) { return stddev(in[0], 2); }, dt);
  check_golden_case(
      g, "logsumexp_dim1", {"x"}, [](const auto& in) { return logsumexp(mul(in[0], 10.0), 1); }, dt);
  Tensor x = g.get("max_dim1.x").to(dt);
  EXPECT_EQ(max_with_indices(x, 1).second.to_vector<int64_t>(), g.get("max_dim1.idx").to_vector<int64_t>());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ReduceGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Reduce, HandDerivedValues) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(x, 0).to_vector<double>(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum(x, -1, true).shape(), (Shape{2, 1}));
  EXPECT_DOUBLE_EQ(mean(x).item(), 3.5);
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{2, 2}));
  EXPECT_DOUBLE_EQ(var(x, 1).to_vector<double>()[0], 1.0);
  EXPECT_DOUBLE_EQ(var(x, 1, 0).to_vector<double>()[0], 2.0 / 3.0);
  EXPECT_THROW(sum(x, 2), Error);
  EXPECT_THROW(sum(x, std::vector<int>{1, 1}), Error);
}

TEST(Reduce, SumToUndoesBroadcasting) {
  Tensor g = ones({4, 3, 5}, DType::F64);
  EXPECT_EQ(sum_to(g, {3, 1}).to_vector<double>(), (std::vector<double>{20, 20, 20}));
  EXPECT_EQ(sum_to(g, {5}).to_vector<double>(), (std::vector<double>(5, 12.0)));
}

TEST(Reduce, LargeF32SumsStayAccurate) {
  // 2^24 + many small values: a float accumulator would lose all of them.
  std::vector<float> v(100001, 0.25f);
  v[0] = 16777216.0f;
  Tensor x = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  EXPECT_FLOAT_EQ(sum(x).item(), 16777216.0f + 25000.0f);
}

}  // namespace
}  // namespace vg
