// Floor shadows under the body (see floor_shadow.h).
#include "data/synth/floor_shadow.h"

#include <algorithm>
#include <cmath>

namespace vg::synth {
namespace {

// Occlusion below this is invisible; it bounds how far from a part the floor is visited.
constexpr double kFaintestOcclusion = 0.03;
constexpr double kAmbientStrength = 0.8;
constexpr double kCastStrength = 0.85;

// The penumbra of a part `height` metres above the floor (indoor lights are broad).
double penumbra(double height) { return 0.02 + 0.2 * std::max(height, 0.0); }

}  // namespace

FloorShadow::FloorShadow(const CameraFrame& camera, const Backdrop& backdrop, const Lighting& lighting)
    : camera_(camera),
      backdrop_(backdrop),
      to_light_(normalized(lighting.direction)),
      // About 200 grid points across whatever the resolution: the penumbrae stay several grid
      // steps wide, and a large frame costs little more than a small one.
      step_(std::clamp((std::max(camera.width, camera.height) + 100) / 200, 2, 6)),
      grid_width_(camera.width / step_ + 2),
      grid_height_(camera.height / step_ + 2) {
  // A light near the horizon would throw shadows across the room; too faint to matter indoors.
  casts_ = to_light_.y > 0.2 && lighting.intensity > 0;
  const size_t points = static_cast<size_t>(grid_width_) * grid_height_;
  ambient_visibility_.assign(points, 1.0f);
  direct_visibility_.assign(points, 1.0f);
  gains_.assign(static_cast<size_t>(camera.width) * camera.height, 1.0f);
}

PixelBox FloorShadow::apply(const std::vector<BodyPart>& parts) const {
  const std::vector<Backdrop::FloorPoint>& floor = backdrop_.floor_points();
  const int width = camera_.width, height = camera_.height;
  for (int y = last_box_.y0; y < last_box_.y1; ++y) {
    std::fill_n(gains_.begin() + static_cast<std::ptrdiff_t>(y) * width + last_box_.x0, last_box_.x1 - last_box_.x0, 1.0f);
  }
  const Vec3 light = to_light_;
  // Measuring floor distances with the along-light axis shrunk by sin(elevation) turns a
  // sphere's elliptic shadow into a circle of the sphere's radius.
  Vec3 light_across{light.x, 0, light.z};
  light_across = norm(light_across) > 1e-9 ? normalized(light_across) : Vec3{1, 0, 0};
  const double squash = light.y - 1;
  auto shadow_metric = [&](const Vec3& v) { return v + light_across * (dot(v, light_across) * squash); };

  PixelBox touched;  // in pixels
  for (const BodyPart& part : parts) {
    if (!part.casts_floor_shadow) continue;
    const Vec3 a = part.world_a(), b = part.world_b();
    const double r = part.world_radius;
    const double low = std::min(a.y, b.y), high = std::max(a.y, b.y);
    double x0 = 1e300, x1 = -1e300, z0 = 1e300, z1 = -1e300;
    auto extend = [&](const Vec3& p, double reach_x, double reach_z) {
      x0 = std::min(x0, p.x - reach_x), x1 = std::max(x1, p.x + reach_x);
      z0 = std::min(z0, p.z - reach_z), z1 = std::max(z1, p.z + reach_z);
    };
    // Ambient occlusion peaks at r^2 / h^2 right below the part and falls as r^2 h / d^3.
    const bool occludes = low < r / std::sqrt(kFaintestOcclusion);
    if (occludes) {
      const double reach = std::cbrt(r * r * std::max(high, r) / kFaintestOcclusion);
      extend(a, reach, reach);
      extend(b, reach, reach);
    }
    Vec3 a_floor, b_floor;
    if (casts_) {
      a_floor = a - light * (a.y / light.y);
      b_floor = b - light * (b.y / light.y);
      // Each end's shadow is an ellipse: (r + penumbra) across the light, that / sin(elevation) along it.
      const double across = r + penumbra(high), along = across / light.y;
      const double lx = light_across.x, lz = light_across.z;
      const double reach_x = std::sqrt(along * along * lx * lx + across * across * lz * lz);
      const double reach_z = std::sqrt(along * along * lz * lz + across * across * lx * lx);
      extend(a_floor, reach_x, reach_z);
      extend(b_floor, reach_x, reach_z);
    }
    if (x0 > x1) continue;
    double u0 = 1e300, v0 = 1e300, u1 = -1e300, v1 = -1e300;
    bool behind = false;
    for (const Vec3& corner : {Vec3{x0, 0, z0}, Vec3{x1, 0, z0}, Vec3{x0, 0, z1}, Vec3{x1, 0, z1}}) {
      const Camera::Projection p = camera_.project(corner);
      if (!p.in_front) {
        behind = true;
        break;
      }
      u0 = std::min(u0, p.u), u1 = std::max(u1, p.u), v0 = std::min(v0, p.v), v1 = std::max(v1, p.v);
    }
    const PixelBox box = behind ? PixelBox{0, 0, width, height}
                                : PixelBox{static_cast<int>(std::max(0.0, std::floor(u0))), static_cast<int>(std::max(0.0, std::floor(v0))),
                                           static_cast<int>(std::min<double>(width, std::ceil(u1) + 1)),
                                           static_cast<int>(std::min<double>(height, std::ceil(v1) + 1))};
    if (box.empty()) continue;
    touched = touched.united(box);

    const Vec3 axis = b - a;
    const double axis2 = std::max(dot(axis, axis), 1e-12);
    const Vec3 cast_axis = shadow_metric(b_floor - a_floor);
    const double cast_axis2 = std::max(dot(cast_axis, cast_axis), 1e-12);
    // The grid points whose interpolation reaches the box's pixels.
    const int i0 = box.x0 / step_, i1 = std::min(grid_width_, box.x1 / step_ + 2);
    const int j0 = box.y0 / step_, j1 = std::min(grid_height_, box.y1 / step_ + 2);
    for (int j = j0; j < j1; ++j) {
      const size_t row = static_cast<size_t>(std::min(step_ * j, height - 1)) * width;
      for (int i = i0; i < i1; ++i) {
        const Backdrop::FloorPoint& f = floor[row + static_cast<size_t>(std::min(step_ * i, width - 1))];
        if (std::isnan(f.x)) continue;
        const Vec3 p{f.x, 0, f.z};
        const size_t point = static_cast<size_t>(j) * grid_width_ + i;
        if (occludes) {
          const double s = std::clamp(dot(p - a, axis) / axis2, 0.0, 1.0);
          const Vec3 nearest = a + axis * s;
          const double h = std::max(nearest.y, 0.25 * r), d = std::max(distance(nearest, p), r);
          const double occlusion = std::min(1.0, r * r * h / (d * d * d));
          ambient_visibility_[point] *= static_cast<float>(1 - kAmbientStrength * occlusion);
        }
        if (casts_) {
          const Vec3 v = shadow_metric(p - a_floor);
          const double s = std::clamp(dot(v, cast_axis) / cast_axis2, 0.0, 1.0);
          const double d = norm(v - cast_axis * s);
          const double soft = penumbra(a.y + (b.y - a.y) * s);
          double inside = (r + soft - d) / (2 * soft);
          if (inside > 0) {
            inside = std::min(inside, 1.0);
            inside = inside * inside * (3 - 2 * inside);
            // A wide penumbra spreads the same blocked light thinner.
            direct_visibility_[point] *= static_cast<float>(1 - kCastStrength * inside * r / (r + soft));
          }
        }
      }
    }
  }
  last_box_ = touched;
  if (touched.empty()) return touched;
  for (int y = touched.y0; y < touched.y1; ++y) {
    const int j0 = y / step_, j1 = std::min(j0 + 1, grid_height_ - 1);
    const float fy = static_cast<float>(y - j0 * step_) / static_cast<float>(step_);
    for (int x = touched.x0; x < touched.x1; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width + x;
      if (!floor[pixel].visible) continue;
      const int i0 = x / step_, i1 = std::min(i0 + 1, grid_width_ - 1);
      const float fx = static_cast<float>(x - i0 * step_) / static_cast<float>(step_);
      auto sample = [&](const std::vector<float>& grid) {
        const float* r0 = grid.data() + static_cast<size_t>(j0) * grid_width_;
        const float* r1 = grid.data() + static_cast<size_t>(j1) * grid_width_;
        const float top = r0[i0] + (r0[i1] - r0[i0]) * fx, bottom = r1[i0] + (r1[i1] - r1[i0]) * fx;
        return top + (bottom - top) * fy;
      };
      const float share = floor[pixel].direct_share;
      gains_[pixel] = (1 - share) * sample(ambient_visibility_) + share * sample(direct_visibility_);
    }
  }
  // Reset the grid points any part may have written.
  const int i0 = touched.x0 / step_, i1 = std::min(grid_width_, touched.x1 / step_ + 2);
  for (int j = touched.y0 / step_; j < std::min(grid_height_, touched.y1 / step_ + 2); ++j) {
    std::fill(ambient_visibility_.begin() + j * grid_width_ + i0, ambient_visibility_.begin() + j * grid_width_ + i1, 1.0f);
    std::fill(direct_visibility_.begin() + j * grid_width_ + i0, direct_visibility_.begin() + j * grid_width_ + i1, 1.0f);
  }
  return touched;
}

}  // namespace vg::synth
