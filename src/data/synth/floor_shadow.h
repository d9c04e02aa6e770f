// The body's shadows on the floor, which ground the figure: every part darkens the floor by its
// ambient occlusion (the analytic occlusion of a sphere above a plane, r^2 h / d^3, taken at the
// part's point nearest the floor point) and by a soft shadow cast along the light, whose
// penumbra widens and fades with the part's height. Shadows are soft, so they are computed on a
// coarser grid of pixels and interpolated; only grid points near each part's shadow are
// visited.
#pragma once

#include <vector>

#include "data/synth/backdrop.h"
#include "data/synth/body_geometry.h"
#include "data/synth/camera.h"
#include "data/synth/lighting.h"

namespace vg::synth {

class FloorShadow {
 public:
  // Keeps references to `camera` and `backdrop`, which must outlive this.
  FloorShadow(const CameraFrame& camera, const Backdrop& backdrop, const Lighting& lighting);

  // Computes the darkening of the floor under `parts`: gains() holds, per pixel, the factor that
  // multiplies the room's radiance (1: no shadow); returns the box outside which every gain is 1.
  PixelBox apply(const std::vector<BodyPart>& parts) const;
  // float [height, width], valid until the next apply().
  const float* gains() const { return gains_.data(); }

 private:
  const CameraFrame& camera_;
  const Backdrop& backdrop_;
  Vec3 to_light_;
  bool casts_ = false;  // the light is high enough to cast a shadow on the floor
  int step_;                      // grid point (i, j) samples pixel (step i, step j), clamped to the image
  int grid_width_, grid_height_;
  mutable std::vector<float> ambient_visibility_, direct_visibility_;  // on the grid; 1 everywhere between calls
  mutable std::vector<float> gains_;  // per pixel; 1 outside last_box_
  mutable PixelBox last_box_;
};

}  // namespace vg::synth
