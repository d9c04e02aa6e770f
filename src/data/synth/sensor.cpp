// Sensor effects: tone curve, vignette, blur and per-frame noise (see sensor.h).
#include "data/synth/sensor.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace vg::synth {
namespace {

constexpr size_t kNoiseTableSize = size_t{1} << 17;  // 256 KiB of int16: stays in L2

// Standard normal values, drawn once per process: every clip scales the same table by its sigma
// and reads it at offsets hashed from its own noise seed, so a new clip costs no gaussian draws.
const std::vector<float>& standard_normal_table() {
  static const std::vector<float> table = [] {
    std::vector<float> values(kNoiseTableSize);
    RandomStream random(0x6e6f697365ull);
    for (float& v : values) v = static_cast<float>(random.normal());
    return values;
  }();
  return table;
}

}  // namespace

void SensorEffects::validate() const {
  VG_CHECK(std::isfinite(noise_sigma) && noise_sigma >= 0 && noise_sigma <= 64, "synth", "sensor noise_sigma ",
           noise_sigma, " is outside [0, 64] u8 levels");
  VG_CHECK(std::isfinite(blur) && blur >= 0 && blur <= 3, "synth", "sensor blur ", blur, " is outside [0, 3] pixels");
  VG_CHECK(std::isfinite(brightness) && brightness > 0 && brightness <= 4, "synth", "sensor brightness ", brightness,
           " is outside (0, 4]");
  VG_CHECK(std::isfinite(contrast) && contrast > 0 && contrast <= 4, "synth", "sensor contrast ", contrast,
           " is outside (0, 4]");
  VG_CHECK(std::isfinite(gamma) && gamma >= 0.2 && gamma <= 5, "synth", "sensor gamma ", gamma,
           " is outside [0.2, 5]");
  VG_CHECK(std::isfinite(vignette) && vignette >= 0 && vignette <= 1, "synth", "sensor vignette ", vignette,
           " is outside [0, 1]");
}

std::string SensorEffects::describe() const {
  return str("noise ", noise_sigma, ", blur ", blur, ", brightness ", brightness, ", contrast ", contrast, ", gamma ",
             gamma, ", vignette ", vignette);
}

SensorEffects random_sensor_effects(RandomStream& random) {
  SensorEffects s;
  // Phone and webcam footage: usually some noise, sometimes soft focus, exposure a bit off.
  s.noise_sigma = random.chance(0.15) ? 0.0 : random.uniform(0.5, 5.0);
  s.blur = random.chance(0.45) ? 0.0 : random.uniform(0.3, 1.1);
  s.brightness = random.uniform(0.85, 1.15);
  s.contrast = random.uniform(0.85, 1.15);
  s.gamma = random.uniform(0.85, 1.2);
  s.vignette = random.chance(0.5) ? 0.0 : random.uniform(0.1, 0.45);
  s.noise_seed = RandomStream::mix(static_cast<uint64_t>(random.uniform() * 9007199254740992.0));
  return s;
}

SensorPipeline::SensorPipeline(const SensorEffects& effects, int width, int height)
    : width_(width), height_(height), noise_seed_(effects.noise_seed) {
  effects.validate();
  lut_.resize(kLutSize);
  for (int i = 0; i < kLutSize; ++i) {
    const double linear = (i + 0.5) / kLutScale;
    double x = effects.gamma == 1 ? std::min(linear, 1.0) : std::pow(std::min(linear, 1.0), 1.0 / effects.gamma);
    // Values above white (specular glints, bright walls) keep a little headroom before clipping.
    if (linear > 1) x += 0.5 * (linear - 1);
    x = ((x - 0.5) * effects.contrast + 0.5) * effects.brightness;
    lut_[static_cast<size_t>(i)] = static_cast<uint8_t>(std::lround(std::clamp(x, 0.0, 1.0) * 255));
  }
  if (effects.vignette > 0) {
    // Natural-looking falloff: the gain drops with the squared distance from the centre,
    // reaching 1 - vignette in the corners.
    vignette_.resize(static_cast<size_t>(width) * height);
    const double cx = 0.5 * width, cy = 0.5 * height, corner2 = cx * cx + cy * cy;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double dx = x + 0.5 - cx, dy = y + 0.5 - cy, r2 = (dx * dx + dy * dy) / corner2;
        vignette_[static_cast<size_t>(y) * width + x] = static_cast<float>(1 - effects.vignette * r2 * (0.6 + 0.4 * r2));
      }
    }
  }
  if (effects.blur > 0) {
    const int radius = std::max(1, static_cast<int>(std::ceil(2.5 * effects.blur)));
    kernel_.resize(static_cast<size_t>(radius) + 1);
    double total = 0;
    for (int i = 0; i <= radius; ++i) {
      kernel_[static_cast<size_t>(i)] = static_cast<float>(std::exp(-0.5 * i * i / (effects.blur * effects.blur)));
      total += (i == 0 ? 1 : 2) * kernel_[static_cast<size_t>(i)];
    }
    for (float& k : kernel_) k = static_cast<float>(k / total);
  } else {
    kernel_ = {1.0f};
  }
  if (effects.noise_sigma > 0) {
    const std::vector<float>& normal = standard_normal_table();
    const auto sigma = static_cast<float>(effects.noise_sigma);
    noise_.resize(kNoiseTableSize);
    for (size_t i = 0; i < kNoiseTableSize; ++i) {
      noise_[i] = static_cast<int16_t>(std::nearbyint(std::clamp(sigma * normal[i], -255.0f, 255.0f)));
    }
  }
}

namespace {

// One row of a horizontal gaussian: out[0 .. 3 (x1 - x0)) gets pixels x0..x1 of `row` (RGB
// floats, `width` pixels), the border pixel repeated beyond the edges. The interior loop has no
// clamps, so it vectorises.
void blur_row(const float* row, int width, int x0, int x1, const std::vector<float>& kernel, float* out) {
  const int radius = static_cast<int>(kernel.size()) - 1;
  const int inner0 = std::clamp(radius, x0, x1), inner1 = std::clamp(width - radius, inner0, x1);
  auto clamped = [&](int x) {
    for (int c = 0; c < 3; ++c) {
      float v = kernel[0] * row[3 * x + c];
      for (int k = 1; k <= radius; ++k) {
        v += kernel[static_cast<size_t>(k)] * (row[3 * std::max(0, x - k) + c] + row[3 * std::min(width - 1, x + k) + c]);
      }
      out[3 * (x - x0) + c] = v;
    }
  };
  for (int x = x0; x < inner0; ++x) clamped(x);
  const float* in = row;
  float* o = out - 3 * x0;
  for (int i = 3 * inner0; i < 3 * inner1; ++i) {
    float v = kernel[0] * in[i];
    for (int k = 1; k <= radius; ++k) v += kernel[static_cast<size_t>(k)] * (in[i - 3 * k] + in[i + 3 * k]);
    o[i] = v;
  }
  for (int x = inner1; x < x1; ++x) clamped(x);
}

// The vertical pass: out[i] for i < count from rows[0 .. 2 radius], the rows y - radius .. y + radius.
void blur_column(const float* const* rows, size_t count, const std::vector<float>& kernel, float* out) {
  const int radius = static_cast<int>(kernel.size()) - 1;
  for (size_t i = 0; i < count; ++i) {
    float v = kernel[0] * rows[radius][i];
    for (int k = 1; k <= radius; ++k) v += kernel[static_cast<size_t>(k)] * (rows[radius - k][i] + rows[radius + k][i]);
    out[i] = v;
  }
}

}  // namespace

void SensorPipeline::develop(const float* linear, const PixelBox& box, uint8_t* out) const {
  if (box.empty()) return;
  const int radius = blur_radius();
  const size_t row_stride = static_cast<size_t>(width_) * 3;
  auto store_row = [&](int y, const float* values) {  // values: the box's pixels of row y
    for (int x = box.x0; x < box.x1; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width_ + x;
      const float* v = values + 3 * (x - box.x0);
      float r = v[0], g = v[1], b = v[2];
      if (!vignette_.empty()) {
        const float gain = vignette_[pixel];
        r *= gain, g *= gain, b *= gain;
      }
      uint8_t* o = out + pixel * 3;
      o[0] = tone(r), o[1] = tone(g), o[2] = tone(b);
    }
  };
  if (radius == 0) {
    for (int y = box.y0; y < box.y1; ++y) store_row(y, linear + y * row_stride + 3 * box.x0);
    return;
  }
  // Rows first into scratch (the box's columns, its rows grown by the radius), then columns.
  const int row0 = std::max(0, box.y0 - radius), row1 = std::min(height_, box.y1 + radius);
  const size_t box_values = static_cast<size_t>(box.x1 - box.x0) * 3;
  blurred_rows_.resize(static_cast<size_t>(row1 - row0 + 1) * box_values);
  float* column_out = blurred_rows_.data() + static_cast<size_t>(row1 - row0) * box_values;
  for (int y = row0; y < row1; ++y) {
    blur_row(linear + y * row_stride, width_, box.x0, box.x1, kernel_, blurred_rows_.data() + (y - row0) * box_values);
  }
  std::vector<const float*>& rows = row_pointers_;
  rows.resize(static_cast<size_t>(2 * radius + 1));
  for (int y = box.y0; y < box.y1; ++y) {
    for (int k = -radius; k <= radius; ++k) {
      const int source = std::clamp(y + k, 0, height_ - 1);
      rows[static_cast<size_t>(k + radius)] = blurred_rows_.data() + (source - row0) * box_values;
    }
    blur_column(rows.data(), box_values, kernel_, column_out);
    store_row(y, column_out);
  }
}

void SensorPipeline::develop_with_gains(const float* blurred_linear, const float* gains, const PixelBox& box,
                                        uint8_t* out) const {
  for (int y = box.y0; y < box.y1; ++y) {
    for (int x = box.x0; x < box.x1; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width_ + x;
      float gain = gains[pixel];
      if (gain == 1.0f) continue;
      if (!vignette_.empty()) gain *= vignette_[pixel];
      const float* in = blurred_linear + pixel * 3;
      uint8_t* o = out + pixel * 3;
      o[0] = tone(in[0] * gain), o[1] = tone(in[1] * gain), o[2] = tone(in[2] * gain);
    }
  }
}

std::vector<float> SensorPipeline::blurred(const float* linear) const {
  const size_t stride = static_cast<size_t>(width_) * 3;
  std::vector<float> out(linear, linear + stride * height_);
  const int radius = blur_radius();
  if (radius == 0) return out;
  std::vector<float> rows(stride * height_);
  for (int y = 0; y < height_; ++y) blur_row(linear + y * stride, width_, 0, width_, kernel_, rows.data() + y * stride);
  std::vector<const float*> window(static_cast<size_t>(2 * radius + 1));
  for (int y = 0; y < height_; ++y) {
    for (int k = -radius; k <= radius; ++k) window[static_cast<size_t>(k + radius)] = rows.data() + std::clamp(y + k, 0, height_ - 1) * stride;
    blur_column(window.data(), stride, kernel_, out.data() + y * stride);
  }
  return out;
}

void SensorPipeline::add_noise(uint8_t* image, int64_t frame_index) const {
  if (noise_.empty()) return;
  const size_t row_values = static_cast<size_t>(width_) * 3;
  const uint64_t frame_key = RandomStream::mix(noise_seed_ ^ RandomStream::mix(static_cast<uint64_t>(frame_index)));
  for (int y = 0; y < height_; ++y) {
    // Each row reads the table at its own offset, so no two rows or frames share a pattern.
    const uint64_t offset = RandomStream::mix(frame_key + static_cast<uint64_t>(y)) % (kNoiseTableSize - row_values);
    const int16_t* noise = noise_.data() + offset;
    uint8_t* row = image + y * row_values;
    for (size_t i = 0; i < row_values; ++i) {
      const int value = row[i] + noise[i];
      row[i] = static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
    }
  }
}

}  // namespace vg::synth
