// matmul and linear against PyTorch goldens and hand-derived values.
#include <gtest/gtest.h>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::open_golden;

class LinalgGolden : public ::testing::TestWithParam<DType> {};

TEST_P(LinalgGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/linalg.safetensors");
  for (const char* name : {"matmul_broadcast_rhs", "matmul_batch_broadcast", "matmul_vec_mat", "matmul_mat_vec"}) {
    check_golden_case(
        g, name, {"a", "b"}, [](const auto& in) { return matmul(in[0], in[1]); }, dt);
  }
  check_golden_case(
      g, "linear_bias", {"x", "w", "b"}, [](const auto& in) { return linear(in[0], in[1], in[2]); }, dt);
  check_golden_case(
      g, "linear_nobias", {"x", "w"}, [](const auto& in) { return linear(in[0], in[1]); }, dt);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LinalgGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Matmul, HandDerivedAndTransposedViews) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  EXPECT_EQ(matmul(a, b).to_vector<double>(), (std::vector<double>{4, 5, 10, 11}));
  // a^T a through a transposed view (no copy) equals the explicit product.
  EXPECT_EQ(matmul(a.transpose(0, 1), a).to_vector<double>(),
            (std::vector<double>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  EXPECT_THROW(matmul(a, a), Error);
}

TEST(Matmul, LargeProductsSplitAcrossThreadsAgreeWithSmallOnes) {
  // Big enough to be split by rows across the thread pool; compare against per-row products.
  Tensor a = testing::random_tensor({300, 64}, 1, DType::F32);
  Tensor b = testing::random_tensor({64, 200}, 2, DType::F32);
  Tensor full = matmul(a, b);
  for (int64_t r : {0, 17, 150, 299}) {
    EXPECT_ALL_CLOSE(full.select(0, r), matmul(a.select(0, r), b), 1e-5, 1e-5);
  }
}

TEST(Linear, RejectsMismatchedWeights) {
  EXPECT_THROW(linear(zeros({2, 3}), zeros({4, 5})), Error);
  EXPECT_THROW(linear(zeros({2, 3}), zeros({4, 3}), zeros({5})), Error);
  EXPECT_THROW(linear(zeros({2, 3}), zeros({4, 3}, DType::F64)), Error);
}

}  // namespace
}  // namespace vg
