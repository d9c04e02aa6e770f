// avg_pool2d / adaptive_avg_pool2d against PyTorch goldens (tools/reference/make_conv_goldens.py),
// hand-computed grids, the ETP's window layout and the argument checks.
#include <gtest/gtest.h>

#include <string>

#include "ops/pool.h"
#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::expect_error;
using testing::open_golden;
using testing::random_tensor;
using testing::Tolerance;

class PoolGolden : public ::testing::TestWithParam<DType> {};

TEST_P(PoolGolden, MatchesPyTorch) {
  const DType dt = GetParam();
  const Tolerance tol = testing::tolerance_for(dt);  // sums are taken in double, so f32 is only rounded once
  io::SafetensorsFile g = open_golden("ops/pool.safetensors");
  auto pool = [&](const char* name, std::array<int64_t, 2> k, std::array<int64_t, 2> s, std::array<int64_t, 2> p,
                  bool ceil, bool include) {
    check_golden_case(
        g, name, {"x"}, [=](const auto& in) { return avg_pool2d(in[0], k, s, p, ceil, include); }, dt, tol);
  };
  pool("avg_pool_default", {2, 2}, {0, 0}, {0, 0}, false, true);
  pool("avg_pool_pad_incl", {3, 3}, {2, 2}, {1, 1}, false, true);
  pool("avg_pool_pad_excl", {3, 3}, {2, 2}, {1, 1}, false, false);
  pool("avg_pool_ceil", {3, 3}, {2, 2}, {0, 0}, true, true);
  pool("avg_pool_ceil_pad_incl", {3, 3}, {2, 2}, {1, 1}, true, true);
  pool("avg_pool_ceil_pad_excl", {3, 3}, {2, 2}, {1, 1}, true, false);
  pool("avg_pool_ceil_drop", {2, 3}, {4, 3}, {1, 1}, true, true);
  pool("avg_pool_unbatched_rect", {2, 3}, {1, 2}, {1, 0}, false, true);
  auto adaptive = [&](const char* name, std::array<int64_t, 2> out) {
    check_golden_case(
        g, name, {"x"}, [=](const auto& in) { return adaptive_avg_pool2d(in[0], out); }, dt, tol);
  };
  adaptive("adaptive_14_12", {12, 12});
  adaptive("adaptive_14_7", {7, 7});
  adaptive("adaptive_5_3", {3, 3});
  adaptive("adaptive_7_4", {4, 4});
  adaptive("adaptive_rect", {3, 4});
  adaptive("adaptive_upsample", {5, 4});
}

INSTANTIATE_TEST_SUITE_P(Dtypes, PoolGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(Pool, TwoByTwoAverageOfAKnownGrid) {
  Tensor x = arange(16, DType::F64).reshape({1, 1, 4, 4});  // rows 0..3, 4..7, ...
  EXPECT_EQ(avg_pool2d(x, {2, 2}).to_vector<double>(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  EXPECT_EQ(adaptive_avg_pool2d(x, {2, 2}).to_vector<double>(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  EXPECT_EQ(adaptive_avg_pool2d(x, {1, 1}).to_vector<double>(), (std::vector<double>{7.5}));
}

TEST(Pool, CountIncludePadChangesOnlyTheBorderDivisors) {
  Tensor x = ones({1, 3, 3}, DType::F64);
  std::vector<double> incl = avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, false, true).to_vector<double>();
  std::vector<double> excl = avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}, false, false).to_vector<double>();
  const std::vector<double> in_bounds{4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_DOUBLE_EQ(incl[i], in_bounds[i] / 9.0) << i;
    EXPECT_DOUBLE_EQ(excl[i], 1.0) << i;
  }
}

TEST(Pool, OutputSizesFollowPyTorch) {
  Tensor x = zeros({2, 3, 7, 8});
  EXPECT_EQ(avg_pool2d(x, {3, 3}, {2, 2}).shape(), Shape({2, 3, 3, 3}));
  EXPECT_EQ(avg_pool2d(x, {3, 3}, {2, 2}, {0, 0}, true).shape(), Shape({2, 3, 3, 4}));
  // Ceil mode: rows 5 + 2 padding, kernel 2, stride 4 -> ceil gives 3, but the third window
  // would start in the right padding, so it is dropped.
  EXPECT_EQ(avg_pool2d(zeros({1, 5, 9}), {2, 3}, {4, 3}, {1, 1}, true).shape(), Shape({1, 2, 4}));
  // In ceil mode a kernel larger than the input still gives one (partial) window, as in PyTorch.
  Tensor small = ones({1, 1, 2, 2}, DType::F64);
  Tensor y = avg_pool2d(small, {3, 3}, {3, 3}, {0, 0}, true);
  ASSERT_EQ(y.shape(), Shape({1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(y.item(), 1.0);
  EXPECT_EQ(adaptive_avg_pool2d(x, {3, 11}).shape(), Shape({2, 3, 3, 11}));
}

TEST(Pool, AdaptiveWindowsOfTheEtpProjector) {
  // x[h][w] = w, so each output is its window's mean column: start + (size - 1) / 2.
  Tensor cols = arange(14, DType::F64).reshape({1, 14}).expand({14, 14}).unsqueeze(0);
  std::vector<double> y12 = adaptive_avg_pool2d(cols, {12, 12}).to_vector<double>();
  // 14 -> 12: all windows have size 2, starting at 0,1,2,3,4,5,7,8,9,10,11,12 (mobile-videogpt-reference §1.7).
  const std::vector<double> starts{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12};
  for (size_t i = 0; i < 12; ++i) EXPECT_DOUBLE_EQ(y12[i], starts[i] + 0.5) << i;
  // 14 -> 7 is exactly a 2x2 average pool.
  Tensor x = random_tensor({2, 3, 14, 14}, 1);
  EXPECT_ALL_CLOSE(adaptive_avg_pool2d(x, {7, 7}), avg_pool2d(x, {2, 2}), 1e-15, 1e-15);
  EXPECT_ALL_CLOSE(adaptive_avg_pool2d(x, {14, 14}), x, 0, 0);
}

TEST(Pool, NonContiguousInputAndF32) {
  Tensor xs = random_tensor({9, 7, 2, 3}, 2);  // [H, W, B, C]
  Tensor x = xs.permute({2, 3, 0, 1});
  EXPECT_ALL_CLOSE(avg_pool2d(x, {3, 2}, {2, 1}, {1, 1}, true, false),
                   avg_pool2d(x.contiguous(), {3, 2}, {2, 1}, {1, 1}, true, false), 0, 0);
  EXPECT_ALL_CLOSE(adaptive_avg_pool2d(x.to(DType::F32), {4, 3}), adaptive_avg_pool2d(x, {4, 3}), 1e-6, 1e-6);
}

TEST(Pool, RejectsBadArguments) {
  Tensor x = zeros({1, 2, 5, 5});
  expect_error([&] { avg_pool2d(zeros({5, 5}), {2, 2}); }, {"[avg_pool2d]", "f32[5,5]"});
  expect_error([&] { avg_pool2d(zeros({1, 1, 1, 5, 5}), {2, 2}); }, {"[avg_pool2d]", "[B, C, H, W]"});
  expect_error([&] { avg_pool2d(x, {0, 2}); }, {"[avg_pool2d]", "kernel must be >= 1"});
  expect_error([&] { avg_pool2d(x, {2, 2}, {0, 1}); }, {"[avg_pool2d]", "stride must be >= 1"});
  expect_error([&] { avg_pool2d(x, {2, 2}, {-1, -1}); }, {"[avg_pool2d]", "stride must be >= 1"});
  expect_error([&] { avg_pool2d(x, {3, 3}, {1, 1}, {2, 1}); }, {"[avg_pool2d]", "padding must be in [0, kernel / 2]"});
  expect_error([&] { avg_pool2d(x, {3, 3}, {1, 1}, {0, -1}); }, {"[avg_pool2d]", "padding"});
  expect_error([&] { avg_pool2d(x, {6, 2}); }, {"[avg_pool2d]", "output size is too small", "f32[1,2,5,5]"});
  expect_error([&] { avg_pool2d(zeros({1, 2, 0, 5}), {1, 1}); }, {"[avg_pool2d]", "empty dim"});
  expect_error([&] { avg_pool2d(x.to(DType::I32), {2, 2}); }, {"[avg_pool2d]", "floating"});
  expect_error([&] { adaptive_avg_pool2d(x, {0, 3}); }, {"[adaptive_avg_pool2d]", "output size must be >= 1"});
  expect_error([&] { adaptive_avg_pool2d(x, {3, -1}); }, {"[adaptive_avg_pool2d]", "output size"});
  expect_error([&] { adaptive_avg_pool2d(zeros({2, 5}), {1, 1}); }, {"[adaptive_avg_pool2d]", "[C, H, W]"});
  expect_error([&] { adaptive_avg_pool2d(zeros({0, 5, 5}), {1, 1}); }, {"[adaptive_avg_pool2d]", "empty dim"});
  EXPECT_EQ(adaptive_avg_pool2d(zeros({0, 2, 5, 5}), {2, 2}).shape(), Shape({0, 2, 2, 2}));  // empty batch is fine
}

}  // namespace
}  // namespace vg
