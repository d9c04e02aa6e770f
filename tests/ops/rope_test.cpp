// RoPE tables and rotation against PyTorch / transformers goldens
// (tools/reference/make_attention_goldens.py), hand-checkable rotations and argument errors.
#include "ops/rope.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/golden_case.h"

namespace vg {
namespace {

using testing::check_golden_case;
using testing::expect_error;
using testing::open_golden;
using testing::random_tensor;

class RopeGolden : public ::testing::TestWithParam<DType> {};

TEST_P(RopeGolden, ApplyMatchesPyTorch) {
  const DType dt = GetParam();
  io::SafetensorsFile g = open_golden("ops/rope.safetensors");
  // x [B, T, H, D] with tables [T, 1, D], and x [B, H, T, D] with tables [T, D].
  for (const char* name : {"rope_bthd", "rope_bhtd"}) {
    check_golden_case(
        g, name, {"x", "cos", "sin"}, [](const auto& in) { return apply_rope(in[0], in[1], in[2]); }, dt);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RopeGolden, ::testing::Values(DType::F64, DType::F32), testing::DTypeName());

TEST(RopeTables, MatchPyTorchInF64AndHfArithmeticInF32) {
  io::SafetensorsFile g = open_golden("ops/rope.safetensors");
  for (const auto& [name, theta] : {std::pair{"tables_1e4", 1e4}, std::pair{"tables_1e6", 1e6}}) {
    SCOPED_TRACE(name);
    const std::string c = name;
    Tensor pos = g.get(c + ".positions");
    auto [cos64, sin64] = rope_tables(pos, 8, theta, DType::F64);
    EXPECT_EQ(cos64.dtype(), DType::F64);
    EXPECT_ALL_CLOSE(cos64, g.get(c + ".cos"), 0, 1e-15);
    EXPECT_ALL_CLOSE(sin64, g.get(c + ".sin"), 0, 1e-15);
    auto [cos32, sin32] = rope_tables(pos, 8, theta);
    EXPECT_EQ(cos32.dtype(), DType::F32);
    // Within one f32 ulp: we round cos/sin correctly, torch's vectorised cosf may be 1 ulp off.
    EXPECT_ALL_CLOSE(cos32, g.get(c + ".cos_f32"), 0, 1e-7);
    EXPECT_ALL_CLOSE(sin32, g.get(c + ".sin_f32"), 0, 1e-7);
  }
}

TEST(RopeTables, MatchHfF32AtGemmaHeadDimAndFarPositions) {
  // Positions up to 32767 (i32) at head dim 256: angles reach 32767 rad, so this only holds when
  // inv_freq and the products are rounded as HF rounds them. torch's vectorised powf (Sleef, 1 ulp)
  // is not always correctly rounded, and one ulp of inv_freq times position 32767 moves cos by up to
  // ~1e-6 (9.5e-7 seen, at position 32767 for the one exponent 3.46875); up to 4097 they agree to 1.2e-7.
  io::SafetensorsFile g = open_golden("ops/rope.safetensors");
  for (const auto& [name, theta] : {std::pair{"tables_hf_d256_1e4", 1e4}, std::pair{"tables_hf_d256_1e6", 1e6}}) {
    SCOPED_TRACE(name);
    const std::string c = name;
    Tensor pos = g.get(c + ".positions");
    ASSERT_EQ(pos.dtype(), DType::I32);
    auto [cos32, sin32] = rope_tables(pos, 256, theta);
    EXPECT_ALL_CLOSE(cos32, g.get(c + ".cos_f32"), 0, 2e-6);
    EXPECT_ALL_CLOSE(sin32, g.get(c + ".sin_f32"), 0, 2e-6);
  }
}

TEST(RopeTables, HalfPrecisionTablesAreRoundedF32Tables) {
  Tensor pos = arange(5);
  auto [c32, s32] = rope_tables(pos, 16, 1e4);
  auto [c16, s16] = rope_tables(pos, 16, 1e4, DType::BF16);
  EXPECT_EQ(c16.dtype(), DType::BF16);
  EXPECT_EQ(c16.to_vector<float>(), c32.to(DType::BF16).to_vector<float>());
  EXPECT_EQ(s16.to_vector<float>(), s32.to(DType::BF16).to_vector<float>());
}

TEST(Rope, PositionZeroIsTheIdentity) {
  Tensor x = random_tensor({2, 3, 1, 8}, 1);
  auto [c, s] = rope_tables(arange(1), 8, 1e4, DType::F64);
  EXPECT_ALL_CLOSE(apply_rope(x, c, s), x, 0, 0);
}

TEST(Rope, HeadDimTwoRotatesByThePosition) {
  // D = 2: inv_freq = [1], so (x0, x1) turns by `pos` radians.
  Tensor x = Tensor::from_vector<double>({0.3, -1.2}, {1, 1, 2});
  Tensor pos = Tensor::from_vector<int32_t>({5}, {1});
  auto [c, s] = rope_tables(pos, 2, 1e6, DType::F64);
  std::vector<double> y = apply_rope(x, c, s).to_vector<double>();
  EXPECT_NEAR(y[0], 0.3 * std::cos(5.0) + 1.2 * std::sin(5.0), 1e-15);
  EXPECT_NEAR(y[1], -1.2 * std::cos(5.0) + 0.3 * std::sin(5.0), 1e-15);
}

TEST(Rope, DotProductsDependOnlyOnRelativePosition) {
  // <rope(q, m), rope(k, n)> is a function of m - n: what makes RoPE a relative encoding.
  Tensor q = random_tensor({1, 16}, 2), k = random_tensor({1, 16}, 3);
  auto [c, s] = rope_tables(Tensor::from_vector<int64_t>({3, 10, 103, 110}, {4}), 16, 1e4, DType::F64);
  auto rot = [&](const Tensor& x, int64_t row) {
    return apply_rope(x, c.slice(0, row, row + 1), s.slice(0, row, row + 1));
  };
  const double a = sum(rot(q, 1) * rot(k, 0)).item();  // 10 - 3
  const double b = sum(rot(q, 3) * rot(k, 2)).item();  // 110 - 103
  EXPECT_NEAR(a, b, 1e-12);
}

TEST(Rope, AcceptsViewsAndBroadcastTables) {
  // x as a transposed view; tables [T, 1, D] sliced from a longer table (strided rows).
  Tensor base = random_tensor({2, 4, 3, 6}, 4);  // [B, H, T, D]
  Tensor x = base.transpose(1, 2);               // [B, T, H, D] view
  auto [c, s] = rope_tables(arange(8), 6, 1e4, DType::F64);
  Tensor cv = c.slice(0, 0, 6, 2).unsqueeze(1), sv = s.slice(0, 0, 6, 2).unsqueeze(1);  // positions 0, 2, 4
  Tensor y = apply_rope(x, cv, sv);
  Tensor expected = apply_rope(x.contiguous(), cv.contiguous(), sv.contiguous());
  EXPECT_ALL_CLOSE(y, expected, 0, 0);
  // Same as rotating [B, H, T, D] with [T, D] tables.
  EXPECT_ALL_CLOSE(y.transpose(1, 2), apply_rope(base, cv.squeeze(1), sv.squeeze(1)), 0, 0);
}

TEST(Rope, RejectsBadArguments) {
  Tensor x = zeros({2, 3, 4, 8}), c = zeros({4, 8}), s = zeros({4, 8});
  expect_error([&] { apply_rope(zeros({2, 3, 4, 7}), zeros({4, 7}), zeros({4, 7})); }, {"[apply_rope]", "even"});
  expect_error([&] { apply_rope(x, zeros({4, 8}), zeros({4, 1, 8})); }, {"[apply_rope]", "same shape"});
  expect_error([&] { apply_rope(x, zeros({5, 8}), zeros({5, 8})); }, {"[apply_rope]", "do not broadcast"});
  expect_error([&] { apply_rope(x, zeros({4, 6}), zeros({4, 6})); }, {"[apply_rope]", "must end in the head dim"});
  expect_error([&] { apply_rope(x, zeros({1, 2, 3, 4, 8}), zeros({1, 2, 3, 4, 8})); }, {"[apply_rope]", "rank"});
  expect_error([&] { apply_rope(x, c.to(DType::F64), s.to(DType::F64)); }, {"[apply_rope]", "dtype mismatch"});
  expect_error([&] { apply_rope(x.to(DType::I32), c.to(DType::I32), s.to(DType::I32)); }, {"[apply_rope]", "floating"});
  expect_error([&] { apply_rope(x, Tensor(), s); }, {"[apply_rope]", "undefined"});
  Tensor pos = arange(4);
  expect_error([&] { rope_tables(pos, 7, 1e4); }, {"[rope_tables]", "even"});
  expect_error([&] { rope_tables(pos, 0, 1e4); }, {"[rope_tables]", "positive"});
  expect_error([&] { rope_tables(pos, 8, 0.0); }, {"[rope_tables]", "theta"});
  expect_error([&] { rope_tables(pos, 8, -1e4); }, {"[rope_tables]", "theta"});
  expect_error([&] { rope_tables(pos.to(DType::F32), 8, 1e4); }, {"[rope_tables]", "i32 or i64"});
  expect_error([&] { rope_tables(pos.reshape({2, 2}), 8, 1e4); }, {"[rope_tables]", "rank 1"});
  expect_error([&] { rope_tables(pos, 8, 1e4, DType::I64); }, {"[rope_tables]", "floating"});
}

}  // namespace
}  // namespace vg
