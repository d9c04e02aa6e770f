// The loss-curve picture: curves land where their values say, in their colours.
#include <gtest/gtest.h>

#include <cmath>

#include "support/tensor_testing.h"
#include "train/loss_curve.h"

namespace vg::train {
namespace {

bool is_colour(const Tensor& image, int64_t y, int64_t x, int r, int g, int b) {
  const uint8_t* p = image.data<uint8_t>() + (y * image.size(1) + x) * 3;
  return p[0] == r && p[1] == g && p[2] == b;
}

// Pixels of one colour in a column band.
int64_t count_in_columns(const Tensor& image, int64_t x0, int64_t x1, int r, int g, int b) {
  int64_t n = 0;
  for (int64_t y = 0; y < image.size(0); ++y) {
    for (int64_t x = x0; x < x1; ++x) n += is_colour(image, y, x, r, g, b);
  }
  return n;
}

TEST(LossCurve, DrawsBothSeriesFallingFromLeftToRight) {
  LossCurve c;
  for (int i = 0; i <= 100; ++i) c.train.push_back({double(i), 3.0 - 0.02 * i});
  c.val = {{0, 3.2}, {50, 2.3}, {100, 1.4}};
  const Tensor image = draw_loss_curve(c, 800, 480);
  ASSERT_EQ(image.shape(), Shape({480, 800, 3}));
  // The training line (blue) is high on the left and low on the right.
  auto highest_blue = [&](int64_t x0, int64_t x1) {
    for (int64_t y = 40; y < 430; ++y) {
      for (int64_t x = x0; x < x1; ++x) {
        if (is_colour(image, y, x, 31, 119, 180)) return y;
      }
    }
    return int64_t{-1};
  };
  const int64_t left = highest_blue(100, 140), right = highest_blue(740, 770);
  ASSERT_GE(left, 0);
  ASSERT_GE(right, 0);
  EXPECT_LT(left, right);
  EXPECT_GT(count_in_columns(image, 90, 780, 255, 127, 14), 100);  // the validation line (orange)
  // Empty and non-finite inputs still draw a frame, never crash.
  LossCurve odd;
  odd.train = {{0, NAN}, {1, INFINITY}, {2, 1.0}};
  EXPECT_EQ(draw_loss_curve(odd).size(0), 480);
  EXPECT_EQ(draw_loss_curve(LossCurve{}).size(1), 800);
}

}  // namespace
}  // namespace vg::train
