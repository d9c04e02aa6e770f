// Ray casting the body's parts (see raster.h).
#include "data/synth/raster.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace vg::synth {
namespace {

// Hits closer than this to the camera are ignored: the camera is never inside the body, and a
// part it grazes should not fill the picture.
constexpr double kNearDepth = 0.02;
// Neighbouring pixels on different parts this far apart in depth (metres) form an occlusion edge.
constexpr float kEdgeDepthJump = 0.04f;

}  // namespace

PixelBox part_screen_box(const BodyPart& part, const CameraFrame& camera, double* nearest_depth) {
  const double r = std::max(part.shape.radius_a(), part.shape.radius_b());
  double u0 = 1e300, v0 = 1e300, u1 = -1e300, v1 = -1e300;
  int behind = 0;
  if (nearest_depth != nullptr) *nearest_depth = 0;
  double nearest = 1e300;
  for (int corner = 0; corner < 8; ++corner) {
    const Vec3 local{corner & 1 ? r : -r, corner & 2 ? part.shape.length() + part.shape.radius_b() : -part.shape.radius_a(),
                     corner & 4 ? r : -r};
    const Camera::Projection p = camera.project(part.origin + part.to_world * local);
    if (!p.in_front || p.depth < kNearDepth) {
      ++behind;
      continue;
    }
    u0 = std::min(u0, p.u), u1 = std::max(u1, p.u), v0 = std::min(v0, p.v), v1 = std::max(v1, p.v);
    nearest = std::min(nearest, p.depth);
  }
  if (behind == 8) return {};
  if (behind > 0) return {0, 0, camera.width, camera.height};
  if (nearest_depth != nullptr) *nearest_depth = nearest;
  // Pixel i is sampled at i + 0.5; keep every pixel whose centre may fall inside.
  PixelBox box{static_cast<int>(std::floor(std::max(u0 - 0.5, -1.0))), static_cast<int>(std::floor(std::max(v0 - 0.5, -1.0))),
               static_cast<int>(std::ceil(std::min(u1 + 0.5, camera.width + 1.0))),
               static_cast<int>(std::ceil(std::min(v1 + 0.5, camera.height + 1.0)))};
  box.x0 = std::max(box.x0, 0), box.y0 = std::max(box.y0, 0);
  box.x1 = std::min(box.x1, camera.width), box.y1 = std::min(box.y1, camera.height);
  return box;
}

void BodyRaster::prepare_part(const BodyPart& part, Prepared& out) const {
  const CameraFrame& c = camera_;
  out.part = &part;
  out.origin = part.shape.prepare(part.to_local * (c.origin - part.origin));
  out.dx = part.to_local * (c.right / c.focal);
  out.dy = part.to_local * (c.up * (-1 / c.focal));
  out.d00 = part.to_local * c.ray(0.5, 0.5);
  out.normal_to_world = part.to_local.transposed();
  double nearest = 0;
  out.box = part_screen_box(part, c, &nearest);
  // Rounded down to float: a stored depth not above it cannot be beaten by this part.
  out.nearest_depth = std::nextafter(static_cast<float>(nearest), 0.0f);
  out.centre_depth = dot(lerp(part.world_a(), part.world_b(), 0.5) - c.origin, c.forward);
}

bool BodyRaster::trace(const std::vector<int>& candidates, double u, double v, const ShadingLight& light, Rgb& radiance,
                       float& depth) const {
  double best = std::numeric_limits<double>::infinity();
  int best_piece = 0;
  const Prepared* hit = nullptr;
  for (const int index : candidates) {
    const Prepared& p = prepared_[static_cast<size_t>(index)];
    const Vec3 d = p.d00 + p.dx * (u - 0.5) + p.dy * (v - 0.5);
    int piece = 0;
    const double t = p.part->shape.intersect(p.origin, d, kNearDepth, piece);
    if (t < best) best = t, best_piece = piece, hit = &p;
  }
  if (hit == nullptr) return false;
  const Vec3 d = hit->d00 + hit->dx * (u - 0.5) + hit->dy * (v - 0.5);
  const Vec3 local = hit->origin.o + d * best;
  const Vec3 local_normal = hit->part->shape.normal(local, best_piece);
  const Vec3 normal = unit_vector(hit->normal_to_world * local_normal);
  const Material& material = hit->part->material_at(local, local_normal);
  const Vec3 to_eye = unit_vector(camera_.ray(u, v)) * -1.0;
  radiance = light.shade(material.albedo, material.specular, normal, to_eye);
  depth = static_cast<float>(best);
  return true;
}

PixelBox BodyRaster::prepare(const std::vector<BodyPart>& parts) const {
  VG_ASSERT(parts.size() <= 255);
  prepared_.resize(parts.size());
  box_ = {};
  for (size_t i = 0; i < parts.size(); ++i) {
    prepare_part(parts[i], prepared_[i]);
    box_ = box_.united(prepared_[i].box);
  }
  return box_;
}

void BodyRaster::draw(const ShadingLight& light, const BodyTarget& target) const {
  const int width = camera_.width;
  const PixelBox drawn = box_;
  if (drawn.empty()) return;
  // Front to back: later, hidden parts fail the depth test before any shading.
  order_.resize(prepared_.size());
  for (size_t i = 0; i < prepared_.size(); ++i) order_[i] = static_cast<int>(i);
  std::sort(order_.begin(), order_.end(),
            [&](int a, int b) { return prepared_[static_cast<size_t>(a)].centre_depth < prepared_[static_cast<size_t>(b)].centre_depth; });

  for (const int index : order_) {
    const Prepared& p = prepared_[static_cast<size_t>(index)];
    const RoundCone& shape = p.part->shape;
    for (int y = p.box.y0; y < p.box.y1; ++y) {
      Vec3 d = p.d00 + p.dy * static_cast<double>(y) + p.dx * static_cast<double>(p.box.x0);
      for (int x = p.box.x0; x < p.box.x1; ++x, d += p.dx) {
        const size_t pixel = static_cast<size_t>(y) * width + x;
        if (target.depth[pixel] <= p.nearest_depth) continue;  // a nearer part is already there
        int piece = 0;
        const double t = shape.intersect(p.origin, d, kNearDepth, piece);
        if (!(t < target.depth[pixel])) continue;
        target.depth[pixel] = static_cast<float>(t);
        target.part_ids[pixel] = static_cast<uint8_t>(index);
        const Vec3 local = p.origin.o + d * t;
        const Vec3 local_normal = shape.normal(local, piece);
        const Vec3 normal = unit_vector(p.normal_to_world * local_normal);
        const Material& material = p.part->material_at(local, local_normal);
        const Vec3 to_eye = unit_vector(camera_.ray(x + 0.5, y + 0.5)) * -1.0;
        const Rgb c = light.shade(material.albedo, material.specular, normal, to_eye);
        float* out = target.body_color + pixel * 3;
        out[0] = static_cast<float>(c.r), out[1] = static_cast<float>(c.g), out[2] = static_cast<float>(c.b);
      }
    }
  }

  // Anti-aliasing: pixels whose coverage differs from a neighbour's, or that sit across an
  // occlusion edge, get 3 more samples besides the centre's; misses show the room behind.
  edge_pixels_.clear();
  auto differs = [&](size_t a, size_t b) {
    const float da = target.depth[a], db = target.depth[b];
    const bool ca = da < std::numeric_limits<float>::infinity(), cb = db < std::numeric_limits<float>::infinity();
    if (ca != cb) return true;
    return ca && target.part_ids[a] != target.part_ids[b] && std::abs(da - db) > kEdgeDepthJump;
  };
  for (int y = drawn.y0; y < drawn.y1; ++y) {
    for (int x = drawn.x0; x < drawn.x1; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width + x;
      const bool edge = (x > drawn.x0 && differs(pixel, pixel - 1)) || (x + 1 < drawn.x1 && differs(pixel, pixel + 1)) ||
                        (y > drawn.y0 && differs(pixel, pixel - width)) || (y + 1 < drawn.y1 && differs(pixel, pixel + width));
      if (edge) edge_pixels_.push_back(static_cast<int32_t>(pixel));
    }
  }
  // Samples are written to body_color and the pixel marked covered only after all edges are
  // found (the search reads coverage); misses blend the room colour, read from frame.
  static constexpr double kSamples[3][2] = {{0.17, 0.28}, {0.83, 0.39}, {0.39, 0.86}};
  for (const int32_t pixel : edge_pixels_) {
    const int x = pixel % width, y = pixel / width;
    // The samples can only meet parts seen at this pixel's centre or its neighbours' (a part
    // thinner than a pixel that no centre sees stays unseen, as it would without anti-aliasing).
    candidates_.clear();
    for (const int32_t near : {pixel, pixel - 1, pixel + 1, pixel - width, pixel + width}) {
      if (near < 0 || near >= width * camera_.height) continue;
      if (!(target.depth[near] < std::numeric_limits<float>::infinity())) continue;
      const int id = target.part_ids[near];
      if (std::find(candidates_.begin(), candidates_.end(), id) == candidates_.end()) candidates_.push_back(id);
    }
    const float* room = target.frame + static_cast<size_t>(pixel) * 3;
    const bool centre_hit = target.depth[pixel] < std::numeric_limits<float>::infinity();
    const float* centre = centre_hit ? target.body_color + static_cast<size_t>(pixel) * 3 : room;
    double r = centre[0], g = centre[1], b = centre[2];
    for (const auto& s : kSamples) {
      Rgb c;
      float depth;
      if (trace(candidates_, x + s[0], y + s[1], light, c, depth)) {
        r += c.r, g += c.g, b += c.b;
      } else {
        r += room[0], g += room[1], b += room[2];
      }
    }
    // Written after the loop's reads of body_color at this pixel; neighbours read only depth.
    float* out = target.body_color + static_cast<size_t>(pixel) * 3;
    out[0] = static_cast<float>(0.25 * r), out[1] = static_cast<float>(0.25 * g), out[2] = static_cast<float>(0.25 * b);
  }
  for (const int32_t pixel : edge_pixels_) {
    // Mark as drawn; the depth of a pixel the centre ray missed is a finite stand-in.
    if (!(target.depth[pixel] < std::numeric_limits<float>::infinity())) target.depth[pixel] = std::numeric_limits<float>::max();
  }
  // Composite: drawn pixels replace the room.
  for (int y = drawn.y0; y < drawn.y1; ++y) {
    for (int x = drawn.x0; x < drawn.x1; ++x) {
      const size_t pixel = static_cast<size_t>(y) * width + x;
      if (!(target.depth[pixel] < std::numeric_limits<float>::infinity())) continue;
      const float* c = target.body_color + pixel * 3;
      float* out = target.frame + pixel * 3;
      out[0] = c[0], out[1] = c[1], out[2] = c[2];
    }
  }
}

}  // namespace vg::synth
