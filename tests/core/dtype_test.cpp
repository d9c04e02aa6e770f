// 16-bit float conversions, block quantization and dtype metadata against hand-derived bits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/dtype.h"
#include "core/error.h"
#include "core/quant.h"

namespace vg {
namespace {

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_nbytes(DType::Q8_0, 64), 68);
  EXPECT_EQ(dtype_nbytes(DType::Q4_0, 32), 18);
  EXPECT_THROW(dtype_nbytes(DType::Q4_0, 33), Error);
  EXPECT_THROW(dtype_size(DType::Q8_0), Error);
  EXPECT_EQ(dtype_from_safetensors("BF16"), DType::BF16);
  EXPECT_FALSE(dtype_from_safetensors("F8_E4M3").has_value());
  EXPECT_EQ(dtype_from_name("f16"), DType::F16);
}

TEST(DType, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-2.5f), 0xc020);
  // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + 0.00390625f), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6).
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0.00390625f), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(bf16_to_f32(0x4049), 3.140625f);
}

TEST(DType, F16CoversNormalsSubnormalsAndOverflow) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);               // rounds up to infinity
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // halfway to zero: ties to even
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
  // Every finite half survives a round trip through float.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h) << h;
  }
}

TEST(Quant, Q8_0MatchesGgmlsRule) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = (i - 16) * 0.5f;  // amax 8 -> d = 8/127
  BlockQ8_0 b;
  quantize_row_q8_0(x, &b, 32);
  EXPECT_EQ(b.d, f32_to_f16(8.0f / 127.0f));
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[16], 0);
  float y[32];
  dequantize_row_q8_0(&b, y, 32);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(y[i], x[i], 8.0f / 127.0f / 2 + 1e-3f);
}

TEST(Quant, Q4_0PacksNibblesLikeGgml) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i % 16) - 8.0f;  // max magnitude -8 -> d = 1
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32);
  EXPECT_EQ(f16_to_f32(b.d), 1.0f);
  EXPECT_EQ(b.qs[0], 0x00);   // elements 0 and 16 are both -8 -> nibble 0
  EXPECT_EQ(b.qs[15], 0xff);  // elements 15 and 31 are 7 -> nibble 15
  float y[32];
  dequantize_row_q4_0(&b, y, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(y[i], x[i]);
}

}  // namespace
}  // namespace vg
