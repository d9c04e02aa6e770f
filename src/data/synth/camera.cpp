// Pinhole camera: validation, the look-at frame and projection (see camera.h).
#include "data/synth/camera.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.h"

namespace vg::synth {
namespace {

bool finite(const Vec3& v) { return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z); }

std::string format(const Vec3& v) { return str("(", v.x, ", ", v.y, ", ", v.z, ")"); }

}  // namespace

void Camera::validate() const {
  VG_CHECK(width >= 1 && width <= kMaxImageSide && height >= 1 && height <= kMaxImageSide, "synth",
           "camera image size ", width, "x", height, " is outside 1..", kMaxImageSide, " pixels per side");
  VG_CHECK(std::isfinite(vertical_fov_degrees) && vertical_fov_degrees > 1 && vertical_fov_degrees < 170, "synth",
           "camera vertical field of view ", vertical_fov_degrees, " degrees is outside (1, 170)");
  VG_CHECK(finite(position) && finite(target) && std::isfinite(roll_degrees), "synth",
           "camera position ", format(position), ", target ", format(target), " or roll ", roll_degrees,
           " is not finite");
  VG_CHECK(distance(position, target) > 1e-6, "synth", "camera at ", format(position),
           " is at its target: the view direction is undefined");
}

CameraFrame::CameraFrame(const Camera& camera) {
  camera.validate();
  origin = camera.position;
  target = camera.target;
  forward = normalized(camera.target - camera.position);
  // World up defines "right" unless the camera looks (nearly) straight up or down; then the
  // picture's up is the world's -z / +z, as if the camera had tipped over from the front.
  Vec3 reference_up{0, 1, 0};
  if (std::abs(forward.y) > 0.999999) reference_up = {0, 0, forward.y > 0 ? 1.0 : -1.0};
  right = normalized(cross(forward, reference_up));
  up = cross(right, forward);
  if (camera.roll_degrees != 0) {
    const double a = camera.roll_degrees * std::numbers::pi / 180, c = std::cos(a), s = std::sin(a);
    const Vec3 r = right * c - up * s, u = right * s + up * c;
    right = r;
    up = u;
  }
  width = camera.width;
  height = camera.height;
  focal = 0.5 * camera.height / std::tan(0.5 * camera.vertical_fov_degrees * std::numbers::pi / 180);
  center_u = 0.5 * camera.width;
  center_v = 0.5 * camera.height;
}

Camera::Projection CameraFrame::project(const Vec3& world) const {
  const Vec3 d = world - origin;
  const double depth = dot(d, forward);
  if (!(depth > 0)) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan, depth, false};
  }
  return {center_u + focal * dot(d, right) / depth, center_v - focal * dot(d, up) / depth, depth, true};
}

Camera::Projection Camera::project(const Vec3& world) const { return CameraFrame(*this).project(world); }

}  // namespace vg::synth
