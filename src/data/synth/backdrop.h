// The room the performer exercises in: a textured floor (wood, tiles, carpet, concrete or plain,
// optionally an exercise mat), a back wall and optionally a side wall (plain, gradient, stripes,
// bricks or plaster, with a baseboard and pictures), lit by the scene's light. The room is placed
// relative to the camera (its back wall behind the camera's target), so every view sees a room.
// The Backdrop is the room drawn once per clip: the frames copy it and only redraw the body.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/synth/appearance.h"
#include "data/synth/camera.h"
#include "data/synth/lighting.h"
#include "data/synth/random_stream.h"

namespace vg::synth {

enum class FloorKind { Plain, Wood, Tiles, Carpet, Concrete };
enum class WallKind { Plain, Gradient, Stripes, Bricks, Plaster };

struct Room {
  FloorKind floor = FloorKind::Wood;
  NamedColor floor_color{{0.62, 0.44, 0.27}, "wood"};
  NamedColor floor_accent{{0.85, 0.85, 0.83}, "light grey"};  // tile grout
  double floor_pattern_size = 0.16;  // plank width or tile side, metres
  double floor_variation = 0.12;     // colour variation between planks / tiles, 0..0.4

  bool mat = false;  // an exercise mat on the floor
  NamedColor mat_color{{0.14, 0.34, 0.84}, "blue"};
  double mat_length = 1.83, mat_width = 0.61;
  double mat_center_x = 0, mat_center_z = 0;
  double mat_angle_degrees = 0;  // 0: the long side along x, where floor exercises lie

  WallKind wall = WallKind::Plain;
  NamedColor wall_color{{0.76, 0.76, 0.77}, "light grey"};
  NamedColor wall_accent{{0.93, 0.93, 0.91}, "white"};  // second colour of gradients, stripes, brick mortar
  double wall_pattern_size = 0.3;                       // stripe period, metres
  bool vertical_stripes = true;
  bool baseboard = true;
  NamedColor baseboard_color{{0.93, 0.93, 0.91}, "white"};
  int pictures = 0;  // 0..3 frames or posters on the back wall

  // Placement relative to the camera: the back wall stands back_wall_distance behind the
  // camera's target along the camera's horizontal viewing direction, turned by wall_angle_degrees
  // about the vertical; a side wall (side_wall -1: on the camera's left, +1: right, 0: none)
  // stands side_wall_distance to that side of the target, moved out if the camera is beyond it.
  double back_wall_distance = 3.0;
  double wall_angle_degrees = 0;
  int side_wall = 0;
  double side_wall_distance = 2.5;

  uint64_t texture_seed = 0;  // plank, tile, brick and noise variations

  void validate() const;
  // "a light grey wall and a wooden floor", "a beige brick wall and a white tiled floor with a blue exercise mat".
  std::string describe() const;
};

Room random_room(RandomStream& random);

// The room as the camera sees it, in linear radiance, with what the body's shadows need per pixel.
class Backdrop {
 public:
  Backdrop(const CameraFrame& camera, const Room& room, const Lighting& lighting);

  // float [height, width, 3]
  const std::vector<float>& radiance() const { return radiance_; }

  // Per pixel: where the ray meets the plane of the floor (NaN x for rays that never come down
  // to it; behind a wall for pixels that show the wall, which shadows sampled at a coarser grid
  // interpolate smoothly), whether the pixel shows the floor, and the share of the floor's
  // radiance that comes from the direct light (what a cast shadow removes; 0 off the floor).
  struct FloorPoint {
    float x, z, direct_share;
    bool visible;
  };
  const std::vector<FloorPoint>& floor_points() const { return floor_points_; }

 private:
  std::vector<float> radiance_;
  std::vector<FloorPoint> floor_points_;
};

}  // namespace vg::synth
