#include "train/loss_curve.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

#include "io/png.h"

namespace vg::train {
namespace {

struct Rgb {
  uint8_t r, g, b;
};
constexpr Rgb kAxis{60, 60, 60}, kGrid{225, 225, 225}, kTrain{31, 119, 180}, kVal{255, 127, 14};

// 5x7 glyphs, one row per entry, bit 4 the leftmost pixel: the characters the plot writes.
const std::map<char, std::array<uint8_t, 7>>& glyphs() {
  static const std::map<char, std::array<uint8_t, 7>> g = {
      {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},     {'2', {14, 17, 1, 2, 4, 8, 31}},
      {'3', {31, 2, 4, 2, 1, 17, 14}},     {'4', {2, 6, 10, 18, 31, 2, 2}},    {'5', {31, 16, 30, 1, 1, 17, 14}},
      {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},      {'8', {14, 17, 17, 14, 17, 17, 14}},
      {'9', {14, 17, 17, 15, 1, 2, 12}},   {'.', {0, 0, 0, 0, 0, 12, 12}},     {'-', {0, 0, 0, 31, 0, 0, 0}},
      {'+', {0, 4, 4, 31, 4, 4, 0}},       {'a', {0, 0, 14, 1, 15, 17, 15}},   {'e', {0, 0, 14, 17, 31, 16, 14}},
      {'i', {4, 0, 12, 4, 4, 4, 14}},      {'l', {12, 4, 4, 4, 4, 4, 14}},     {'n', {0, 0, 22, 25, 17, 17, 17}},
      {'o', {0, 0, 14, 17, 17, 17, 14}},   {'p', {0, 0, 30, 17, 30, 16, 16}},  {'r', {0, 0, 22, 25, 16, 16, 16}},
      {'s', {0, 0, 15, 16, 14, 1, 30}},    {'t', {8, 8, 28, 8, 8, 9, 6}},      {'v', {0, 0, 17, 17, 17, 10, 4}},
  };
  return g;
}

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), image_(Tensor::empty({h, w, 3}, DType::U8)) {
    std::fill(image_.data<uint8_t>(), image_.data<uint8_t>() + static_cast<size_t>(w) * h * 3, 255);
  }
  void pixel(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    uint8_t* p = image_.data<uint8_t>() + (static_cast<size_t>(y) * w_ + x) * 3;
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1) {
    const int n = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int i = 0; i <= n; ++i) {
      const double t = static_cast<double>(i) / n;
      const int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t)), y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
      for (int dy = 0; dy < thickness; ++dy) {
        for (int dx = 0; dx < thickness; ++dx) pixel(x + dx - thickness / 2, y + dy - thickness / 2, c);
      }
    }
  }
  // Text with its top-left corner at (x, y), scale 2 (10x14 pixels a character).
  void text(int x, int y, const std::string& s, Rgb c, int scale = 2) {
    for (char ch : s) {
      auto it = glyphs().find(ch);
      if (it != glyphs().end()) {
        for (int row = 0; row < 7; ++row) {
          for (int col = 0; col < 5; ++col) {
            if (!((it->second[static_cast<size_t>(row)] >> (4 - col)) & 1)) continue;
            for (int sy = 0; sy < scale; ++sy) {
              for (int sx = 0; sx < scale; ++sx) pixel(x + col * scale + sx, y + row * scale + sy, c);
            }
          }
        }
      }
      x += 6 * scale;
    }
  }
  static int text_width(const std::string& s, int scale = 2) { return static_cast<int>(s.size()) * 6 * scale; }
  Tensor image() const { return image_; }

 private:
  int w_, h_;
  Tensor image_;
};

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// About five round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi > lo ? hi - lo : 1.0;
  const double raw = span / 5, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / magnitude < 2 ? 2 * magnitude : raw / magnitude < 5 ? 5 * magnitude : 10 * magnitude;
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) out.push_back(t);
  return out;
}

}  // namespace

Tensor draw_loss_curve(const LossCurve& curve, int width, int height) {
  Canvas c(width, height);
  const int left = 90, right = width - 20, top = 40, bottom = height - 50;
  double x_lo = 0, x_hi = 1, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto* series : {&curve.train, &curve.val}) {
    for (const auto& [x, y] : *series) {
      if (!std::isfinite(y)) continue;
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  if (!std::isfinite(y_lo)) y_lo = 0, y_hi = 1;
  if (y_hi - y_lo < 1e-9) y_lo -= 0.5, y_hi += 0.5;
  const double pad = 0.05 * (y_hi - y_lo);
  y_lo = std::max(0.0, y_lo - pad), y_hi += pad;
  auto sx = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); };

  for (double t : ticks(y_lo, y_hi)) {
    c.line(left, sy(t), right, sy(t), kGrid);
    const std::string label = tick_label(t);
    c.text(left - 8 - Canvas::text_width(label), static_cast<int>(sy(t)) - 7, label, kAxis);
  }
  for (double t : ticks(x_lo, x_hi)) {
    c.line(sx(t), top, sx(t), bottom, kGrid);
    const std::string label = tick_label(t);
    c.text(static_cast<int>(sx(t)) - Canvas::text_width(label) / 2, bottom + 8, label, kAxis);
  }
  c.line(left, top, left, bottom, kAxis, 2);
  c.line(left, bottom, right, bottom, kAxis, 2);
  c.text((left + right) / 2 - Canvas::text_width("step") / 2, bottom + 28, "step", kAxis);
  c.text(left, 10, "train loss", kTrain);
  c.text(left + Canvas::text_width("train loss") + 30, 10, "val loss", kVal);

  for (const auto& [series, colour, thickness] :
       {std::tuple{&curve.train, kTrain, 2}, std::tuple{&curve.val, kVal, 3}}) {
    for (size_t i = 1; i < series->size(); ++i) {
      const auto& [x0, y0] = (*series)[i - 1];
      const auto& [x1, y1] = (*series)[i];
      if (std::isfinite(y0) && std::isfinite(y1)) c.line(sx(x0), sy(y0), sx(x1), sy(y1), colour, thickness);
    }
    if (series->size() == 1 && std::isfinite(series->front().second)) {
      c.line(sx(series->front().first), sy(series->front().second), sx(series->front().first), sy(series->front().second), colour, 6);
    }
  }
  return c.image();
}

void write_loss_curve(const std::string& path, const LossCurve& curve) { io::write_png(path, draw_loss_curve(curve)); }

}  // namespace vg::train
