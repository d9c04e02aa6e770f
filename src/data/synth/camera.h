// The synthetic scene's pinhole camera: where it stands, what it looks at, its field of view and
// image size, and the projection of world points to pixels. The renderer casts one ray per pixel
// through the same model, so a joint projected here lands on the pixel that draws it.
//
// Image convention: u grows to the right, v downwards, pixel (i, j) covers [i, i+1) x [j, j+1), so
// its centre is at (i + 0.5, j + 0.5) and the optical axis meets the image at (width/2, height/2).
#pragma once

#include <algorithm>

#include "data/synth/skeleton.h"

namespace vg::synth {

constexpr int kMaxImageSide = 4096;

// A rectangle of pixels [x0, x1) x [y0, y1); empty when x0 >= x1 or y0 >= y1.
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;

  bool empty() const { return x0 >= x1 || y0 >= y1; }
  PixelBox united(const PixelBox& o) const {
    if (empty()) return o;
    if (o.empty()) return *this;
    return {std::min(x0, o.x0), std::min(y0, o.y0), std::max(x1, o.x1), std::max(y1, o.y1)};
  }
  PixelBox grown(int margin, int width, int height) const {
    if (empty()) return *this;
    return {std::max(0, x0 - margin), std::max(0, y0 - margin), std::min(width, x1 + margin), std::min(height, y1 + margin)};
  }
};

struct Camera {
  Vec3 position{0, 1.2, 3.5};
  Vec3 target{0, 0.9, 0};
  double vertical_fov_degrees = 50;
  int width = 320, height = 240;
  double roll_degrees = 0;  // a tilted hand-held camera: positive turns the camera clockwise (seen from behind it), the scene counter-clockwise in the picture

  // u, v in pixels; depth along the view axis in metres. in_front is false for points at or behind
  // the camera's plane, whose u and v are NaN.
  struct Projection {
    double u, v, depth;
    bool in_front;
  };
  Projection project(const Vec3& world) const;

  // Throws [synth] errors for a size outside [1, 4096], a field of view outside (1, 170) degrees,
  // a camera at its target, or non-finite values.
  void validate() const;
};

// The camera's frame, computed once: an orthonormal right/up/forward basis and the focal length
// in pixels. ray(u, v) is scaled so that its forward component is 1: a hit at ray parameter t is
// at depth t, the same depth that project() reports.
struct CameraFrame {
  Vec3 origin, target, right, up, forward;
  double focal = 1;  // pixels per unit of tangent
  double center_u = 0, center_v = 0;
  int width = 0, height = 0;

  explicit CameraFrame(const Camera& camera);  // validates the camera

  Vec3 ray(double u, double v) const {
    return forward + right * ((u - center_u) / focal) - up * ((v - center_v) / focal);
  }
  Camera::Projection project(const Vec3& world) const;
};

}  // namespace vg::synth
