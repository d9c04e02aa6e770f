// Drawing the body's parts into a frame by ray casting: inside each part's screen box (the
// projected corners of its bounding box), one ray per pixel through the pixel centre, the
// analytic entry point into the part, a depth test against what is already there, and shading of
// the nearest surface. Parts go front to back, so hidden pixels are rarely shaded at all.
#pragma once

#include <cstdint>
#include <vector>

#include "data/synth/body_geometry.h"
#include "data/synth/camera.h"
#include "data/synth/lighting.h"

namespace vg::synth {

// The part's screen box, clipped to the image; the whole image when the part reaches behind the
// camera; empty when it is entirely behind it or off screen. `nearest_depth`, when given, gets a
// depth no part of it is nearer than.
PixelBox part_screen_box(const BodyPart& part, const CameraFrame& camera, double* nearest_depth = nullptr);

// Where the body is drawn this frame. frame: float [height, width, 3] radiance, holding the
// room (with the body's shadows) on entry, the room and the body on return. The scratch buffers
// are [height, width] and [height, width, 3]: depth must be +infinity everywhere on entry and
// is +infinity again outside the returned box on return (the caller resets the box).
struct BodyTarget {
  float* frame;
  float* depth;
  uint8_t* part_ids;
  float* body_color;
};

class BodyRaster {
 public:
  explicit BodyRaster(const CameraFrame& camera) : camera_(camera) {}

  // Sets up `parts` (at most 255; kept by reference until draw()) and returns the box of pixels
  // they may cover.
  PixelBox prepare(const std::vector<BodyPart>& parts) const;
  // Draws the prepared parts into `target`, whose frame must hold the room within the box.
  // Pixels on the silhouette and where one part passes in front of another are sampled at 4
  // points and averaged (anti-aliasing), the rest once at the pixel centre.
  void draw(const ShadingLight& light, const BodyTarget& target) const;

 private:
  struct Prepared {  // a part's ray setup for this frame: the ray through pixel (x, y) in the part's frame is d00 + x dx + y dy
    const BodyPart* part;
    RoundCone::Origin origin;
    Vec3 d00, dx, dy;
    Mat3 normal_to_world;
    PixelBox box;
    double centre_depth;
    float nearest_depth;
  };
  void prepare_part(const BodyPart& part, Prepared& out) const;
  // Radiance of the nearest of the `candidates` (indices into prepared_) along the ray through
  // (u, v), or false when it misses them all.
  bool trace(const std::vector<int>& candidates, double u, double v, const ShadingLight& light, Rgb& radiance,
             float& depth) const;

  CameraFrame camera_;
  mutable std::vector<Prepared> prepared_;
  mutable PixelBox box_;
  mutable std::vector<int> order_, candidates_;
  mutable std::vector<int32_t> edge_pixels_;
};

}  // namespace vg::synth
