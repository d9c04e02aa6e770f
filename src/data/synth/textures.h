// Procedural textures of the synthetic room: hashed value noise and box-filtered line patterns
// (filtered by each pixel's footprint, so distant planks and bricks fade to their average colour
// instead of aliasing), and the floor and wall materials built from them.
#pragma once

#include <cstdint>
#include <vector>

#include "data/synth/appearance.h"

namespace vg::synth {

struct Room;

namespace texture {

// A uniform value in [0, 1) for integer lattice coordinates.
double hash01(uint64_t seed, int64_t i, int64_t j);
// Smooth value noise in [0, 1], one feature per unit.
double value_noise(uint64_t seed, double x, double y);
// Octaves of value noise about 0 (roughly [-0.5, 0.5]); octaves finer than `footprint` (the
// pixel's size in the same units) fade out.
double fractal_noise(uint64_t seed, double x, double y, int octaves, double footprint);
// The share of the interval [c - footprint/2, c + footprint/2] where fract(x / period) < duty / period.
double square_wave_coverage(double c, double period, double duty, double footprint);
// The share of the same interval within half_width of a multiple of period (seams, grout).
inline double line_coverage(double c, double period, double half_width, double footprint) {
  return square_wave_coverage(c + half_width, period, 2 * half_width, footprint);
}
// The share of [c - footprint/2, c + footprint/2] inside [lo, hi].
double interval_coverage(double c, double lo, double hi, double footprint);

}  // namespace texture

// The room's surface colours, with what is drawn once per room (the pictures' places).
class RoomMaterials {
 public:
  explicit RoomMaterials(const Room& room);  // keeps a reference: `room` must outlive this

  // Albedo of the floor at room coordinates (across, along): across runs parallel to the back
  // wall, along towards it (metres); footprint is the pixel's size on the floor (metres). The mat
  // is drawn by the backdrop on top.
  Rgb floor(double across, double along, double footprint) const;
  // Albedo of a wall at (across, height), metres along the wall and above the floor. wall_index 0
  // is the back wall, which carries the pictures; 1 the side wall.
  Rgb wall(int wall_index, double across, double height, double footprint) const;

 private:
  struct Picture {
    double x0, x1, y0, y1;  // across and height, metres
    double frame_width;
    Rgb frame, top, bottom;
  };
  const Room& room_;
  std::vector<Picture> pictures_;
};

}  // namespace vg::synth
