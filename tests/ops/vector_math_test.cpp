// The vectorisable exp and tanh against libm in double precision, over a sweep of float bit
// patterns across their whole useful range, plus the special values.
#include "backend/cpu/vector_math.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace vg::cpu {
namespace {

// Distance in units in the last place of `expected` (rounded to float).
double ulps(float got, double expected) {
  const float e = static_cast<float>(expected);
  if (got == e) return 0;
  const double ulp = std::nextafter(std::fabs(e), std::numeric_limits<float>::infinity()) - std::fabs(e);
  return std::fabs(static_cast<double>(got) - expected) / ulp;
}

// Calls f on every `step`-th float between lo and hi (both finite; walks bit patterns, so small
// magnitudes are as densely covered as large ones).
template <class F>
void sweep(float lo, float hi, uint32_t step, F&& f) {
  auto walk = [&](float from, float to) {  // 0 <= from < to, by magnitude
    for (uint32_t b = std::bit_cast<uint32_t>(from); b <= std::bit_cast<uint32_t>(to); b += step) {
      f(std::bit_cast<float>(b));
    }
  };
  if (hi > 0) walk(lo > 0 ? lo : 0.0f, hi);
  if (lo < 0) {
    auto negate = [&](float x) { f(-x); };
    for (uint32_t b = std::bit_cast<uint32_t>(hi < 0 ? -hi : 0.0f); b <= std::bit_cast<uint32_t>(-lo); b += step) {
      negate(std::bit_cast<float>(b));
    }
  }
}

TEST(VectorMath, ExpIsWithinTwoUlpOfLibm) {
  double worst = 0;
  float worst_x = 0;
  sweep(-86.98f, 88.72f, 97, [&](float x) {
    const double err = ulps(exp_f32(x), std::exp(static_cast<double>(x)));
    if (err > worst) worst = err, worst_x = x;
  });
  EXPECT_LE(worst, 2.0) << "at x = " << worst_x;
}

TEST(VectorMath, ExpSpecialValues) {
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(exp_f32(-100.0f), 0.0f);  // flushed instead of subnormal
  EXPECT_EQ(exp_f32(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
  EXPECT_EQ(exp_f32(89.0f), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isfinite(exp_f32(88.72f)));
  EXPECT_TRUE(std::isnan(exp_f32(std::numeric_limits<float>::quiet_NaN())));
}

TEST(VectorMath, TanhIsWithinFourUlpOfLibm) {
  double worst = 0;
  float worst_x = 0;
  // Below 1e-30 tanh(x) == x in float; above 10 it is 1.
  sweep(-12.0f, 12.0f, 89, [&](float x) {
    if (std::fabs(x) < 1e-30f) return;
    const double err = ulps(tanh_f32(x), std::tanh(static_cast<double>(x)));
    if (err > worst) worst = err, worst_x = x;
  });
  EXPECT_LE(worst, 4.0) << "at x = " << worst_x;
}

TEST(VectorMath, TanhSpecialValues) {
  EXPECT_EQ(tanh_f32(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(tanh_f32(-0.0f)));
  EXPECT_EQ(tanh_f32(std::numeric_limits<float>::infinity()), 1.0f);
  EXPECT_EQ(tanh_f32(-std::numeric_limits<float>::infinity()), -1.0f);
  EXPECT_EQ(tanh_f32(1e-35f), 1e-35f);
  EXPECT_TRUE(std::isnan(tanh_f32(std::numeric_limits<float>::quiet_NaN())));
}

TEST(VectorMath, SigmoidMatchesItsDefinition) {
  double worst = 0;
  sweep(-80.0f, 80.0f, 4099, [&](float x) {
    const double expected = 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
    worst = std::max(worst, ulps(sigmoid_of<float>(x), expected));
  });
  EXPECT_LE(worst, 3.0);
  EXPECT_EQ(sigmoid_of<float>(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(sigmoid_of<float>(std::numeric_limits<float>::infinity()), 1.0f);
}

}  // namespace
}  // namespace vg::cpu
