// Procedural floor and wall textures (see textures.h).
#include "data/synth/textures.h"

#include <algorithm>
#include <cmath>

#include "data/synth/backdrop.h"
#include "data/synth/random_stream.h"

namespace vg::synth {
namespace texture {

double hash01(uint64_t seed, int64_t i, int64_t j) {
  // One finaliser round over a multiplicative combination: plenty for texture variation.
  const uint64_t h = RandomStream::mix(seed + static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull +
                                       static_cast<uint64_t>(j) * 0xc2b2ae3d27d4eb4full);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

double value_noise(uint64_t seed, double x, double y) {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  double u = x - fx, v = y - fy;
  u = u * u * (3 - 2 * u);
  v = v * v * (3 - 2 * v);
  const double a = hash01(seed, ix, iy), b = hash01(seed, ix + 1, iy);
  const double c = hash01(seed, ix, iy + 1), d = hash01(seed, ix + 1, iy + 1);
  return (a + (b - a) * u) * (1 - v) + (c + (d - c) * u) * v;
}

double fractal_noise(uint64_t seed, double x, double y, int octaves, double footprint) {
  double total = 0, amplitude = 0.5, frequency = 1;
  for (int k = 0; k < octaves; ++k) {
    // An octave whose features are smaller than the pixel would only alias: fade it out.
    const double keep = std::clamp(2.0 - 2.0 * frequency * footprint, 0.0, 1.0);
    if (keep <= 0) break;
    total += keep * amplitude * (value_noise(seed + static_cast<uint64_t>(k), x * frequency, y * frequency) - 0.5);
    amplitude *= 0.5;
    frequency *= 2;
  }
  return total;
}

double square_wave_coverage(double c, double period, double duty, double footprint) {
  if (footprint < 1e-9 * period) return c - std::floor(c / period) * period < duty ? 1.0 : 0.0;
  // The integral of the wave from 0 to x, differenced over the pixel: an exact box filter.
  auto integral = [&](double x) {
    const double cycles = std::floor(x / period);
    return cycles * duty + std::min(x - cycles * period, duty);
  };
  return std::clamp((integral(c + 0.5 * footprint) - integral(c - 0.5 * footprint)) / footprint, 0.0, 1.0);
}

double interval_coverage(double c, double lo, double hi, double footprint) {
  if (footprint < 1e-12) return c >= lo && c < hi ? 1.0 : 0.0;
  const double overlap = std::min(hi, c + 0.5 * footprint) - std::max(lo, c - 0.5 * footprint);
  return std::clamp(overlap / footprint, 0.0, 1.0);
}

}  // namespace texture

using texture::fractal_noise;
using texture::hash01;
using texture::interval_coverage;
using texture::line_coverage;
using texture::square_wave_coverage;

RoomMaterials::RoomMaterials(const Room& room) : room_(room) {
  RandomStream random(RandomStream::mix(room.texture_seed ^ 0x70696374ull));
  const int count = std::clamp(room.pictures, 0, 3);
  const double span = 4.8, slot = span / std::max(count, 1);
  const std::vector<std::string> frames = {"black", "white", "wood", "dark grey", "dark brown"};
  const std::vector<std::string> paints = {"red", "orange", "yellow", "green", "teal", "light blue", "blue", "navy",
                                           "purple", "pink", "beige", "white", "sky blue", "sage green", "terracotta"};
  for (int k = 0; k < count; ++k) {
    Picture p;
    const double width = random.uniform(0.35, std::min(0.95, slot - 0.25));
    const double height = random.uniform(0.3, 0.8);
    const double centre_x = -0.5 * span + slot * (k + 0.5) + random.uniform(-0.5, 0.5) * (slot - width - 0.2);
    const double centre_y = random.uniform(1.25, 1.8);
    p.x0 = centre_x - 0.5 * width;
    p.x1 = centre_x + 0.5 * width;
    p.y0 = centre_y - 0.5 * height;
    p.y1 = centre_y + 0.5 * height;
    p.frame_width = random.uniform(0.015, 0.05);
    p.frame = random_color(random, frames).rgb;
    p.top = random_color(random, paints).rgb;
    p.bottom = random_color(random, paints).rgb;
    pictures_.push_back(p);
  }
}

Rgb RoomMaterials::floor(double across, double along, double footprint) const {
  const Room& r = room_;
  const uint64_t seed = r.texture_seed;
  const Rgb base = r.floor_color.rgb;
  const double size = r.floor_pattern_size, variation = r.floor_variation;
  switch (r.floor) {
    case FloorKind::Wood: {
      // Planks run across the view, in rows of staggered lengths; each plank its own shade,
      // with grain streaks along it and dark seams around it.
      const double plank_length = 9 * size;
      const double row = std::floor(along / size);
      const double shifted = across + hash01(seed, static_cast<int64_t>(row), 17) * plank_length;
      const double column = std::floor(shifted / plank_length);
      const auto plank_row = static_cast<int64_t>(row), plank_column = static_cast<int64_t>(column);
      const double tone = 1 + variation * (2 * hash01(seed, plank_row, plank_column) - 1);
      Rgb c = base * tone;
      c.r *= 1 + 0.08 * (hash01(seed ^ 1, plank_row, plank_column) - 0.5);
      const double grain = fractal_noise(seed ^ 7, shifted * 1.5, along * 250, 3, footprint * 250);
      c = c * (1 + 0.3 * grain);
      const double seam = std::max(line_coverage(along, size, 0.0012, footprint),
                                   line_coverage(shifted, plank_length, 0.0012, footprint));
      return c * (1 - 0.45 * seam);
    }
    case FloorKind::Tiles: {
      const auto i = static_cast<int64_t>(std::floor(across / size)), j = static_cast<int64_t>(std::floor(along / size));
      const double tone = 1 + 0.5 * variation * (2 * hash01(seed, i, j) - 1);
      const double grout = std::max(line_coverage(across, size, 0.003, footprint), line_coverage(along, size, 0.003, footprint));
      const Rgb tile = base * (tone * (1 + 0.06 * fractal_noise(seed ^ 3, across * 6, along * 6, 2, footprint * 6)));
      return mix(tile, r.floor_accent.rgb, grout);
    }
    case FloorKind::Carpet:
      return base * (1 + 0.25 * fractal_noise(seed, across * 150, along * 150, 2, footprint * 150) +
                     0.12 * fractal_noise(seed ^ 3, across * 1.5, along * 1.5, 3, footprint * 1.5));
    case FloorKind::Concrete:
      return base * (1 + 0.18 * fractal_noise(seed, across * 2, along * 2, 4, footprint * 2) +
                     0.08 * fractal_noise(seed ^ 5, across * 40, along * 40, 2, footprint * 40));
    case FloorKind::Plain:
      break;
  }
  return base * (1 + 0.06 * fractal_noise(seed, across * 0.8, along * 0.8, 2, footprint * 0.8));
}

Rgb RoomMaterials::wall(int wall_index, double across, double height, double footprint) const {
  const Room& r = room_;
  const uint64_t seed = r.texture_seed ^ (0x77616c6cull + static_cast<uint64_t>(wall_index));
  const Rgb base = r.wall_color.rgb, accent = r.wall_accent.rgb;
  Rgb c = base;
  switch (r.wall) {
    case WallKind::Plain:
      c = base * (1 + 0.04 * fractal_noise(seed, across, height, 2, footprint));
      break;
    case WallKind::Gradient: {
      const double t = std::clamp(height / 2.8, 0.0, 1.0);
      c = mix(base, accent, t * t * (3 - 2 * t));
      break;
    }
    case WallKind::Stripes: {
      const double coordinate = r.vertical_stripes ? across : height;
      const double period = r.wall_pattern_size;
      c = mix(base, accent, square_wave_coverage(coordinate, period, 0.5 * period, footprint));
      break;
    }
    case WallKind::Bricks: {
      // Running bond: each course shifted by half a brick, mortar joints of 1 cm.
      constexpr double course = 0.075, brick = 0.225;
      const double row = std::floor(height / course);
      const double shifted = across + (static_cast<int64_t>(row) % 2 != 0 ? 0.5 * brick : 0.0);
      const auto column = static_cast<int64_t>(std::floor(shifted / brick));
      const double tone = 1 + 0.14 * (2 * hash01(seed, static_cast<int64_t>(row), column) - 1);
      const double mortar = std::max(line_coverage(height, course, 0.005, footprint), line_coverage(shifted, brick, 0.005, footprint));
      c = mix(base * tone, accent, mortar);
      break;
    }
    case WallKind::Plaster:
      c = base * (1 + 0.14 * fractal_noise(seed, across * 3, height * 3, 4, footprint * 3));
      break;
  }
  if (wall_index == 0) {
    for (const Picture& p : pictures_) {
      const double outer = interval_coverage(across, p.x0, p.x1, footprint) * interval_coverage(height, p.y0, p.y1, footprint);
      if (outer <= 0) continue;
      const double inner = interval_coverage(across, p.x0 + p.frame_width, p.x1 - p.frame_width, footprint) *
                           interval_coverage(height, p.y0 + p.frame_width, p.y1 - p.frame_width, footprint);
      // An abstract print: two colours blended by height and by blotchy noise.
      const double t = std::clamp((height - p.y0) / (p.y1 - p.y0) + 0.6 * fractal_noise(seed ^ 11, across * 4, height * 4, 3, footprint * 4), 0.0, 1.0);
      c = mix(c, p.frame, outer);
      c = mix(c, mix(p.bottom, p.top, t), inner);
    }
  }
  if (r.baseboard) c = mix(c, r.baseboard_color.rgb, interval_coverage(height, -1, 0.09, footprint));
  return c;
}

}  // namespace vg::synth
