// The volumes of the performer's body for one pose: about twenty rounded cones (round_cone.h),
// each in its own affine frame (so a sphere can be a head-shaped ellipsoid and a cone the
// flattened torso), with the colours of the skin and clothes painted on them in bands along the
// part (sleeves, shorts, socks), or by the head's and the foot's own rules (hair and face; sole).
#pragma once

#include <array>
#include <vector>

#include "data/synth/appearance.h"
#include "data/synth/round_cone.h"
#include "data/synth/skeleton.h"

namespace vg::synth {

// A 3x3 matrix, rows m[0..2].
struct Mat3 {
  std::array<Vec3, 3> rows{};

  Vec3 operator*(const Vec3& v) const { return {dot(rows[0], v), dot(rows[1], v), dot(rows[2], v)}; }
  Mat3 transposed() const {
    return {{{{rows[0].x, rows[1].x, rows[2].x}, {rows[0].y, rows[1].y, rows[2].y}, {rows[0].z, rows[1].z, rows[2].z}}}};
  }
  // The matrix whose columns are a, b, c.
  static Mat3 from_columns(const Vec3& a, const Vec3& b, const Vec3& c) { return Mat3{{{a, b, c}}}.transposed(); }
};

struct Material {
  Rgb albedo;
  double specular = 0.04;
};

enum class Surface : uint8_t {
  Banded,  // bands[k] where the fraction along the part is below band_ends[k] (then bands[3]), optional hoops
  Head,    // on the unit sphere: bands[0] skin, [1] hair (above `hairline`), [2] eyes, [3] mouth
  Foot,    // bands[0] upper, [1] sole (where the normal points down, in the foot's frame)
};

enum class HairCut : uint8_t { None, Short, Long };

struct BodyPart {
  // world = origin + to_world * local; the shape is shape in local coordinates.
  Vec3 origin;
  Mat3 to_world, to_local;
  RoundCone shape;
  double metres_per_local_y = 1;  // for hoop stripes, which have a period in metres

  Surface surface = Surface::Banded;
  std::array<Material, 4> bands{};
  std::array<double, 3> band_ends{2, 2, 2};
  HairCut hair = HairCut::None;
  double hoop_period = 0;     // metres; 0: no hoops
  double hoops_from = -1e9;   // hoops only where the fraction along the part is at least this
  Material hoop{};
  bool casts_floor_shadow = true;  // false for parts whose shadow others already cover (neck, shoulders)

  // The material at local point p with local normal n.
  const Material& material_at(const Vec3& p, const Vec3& n) const;

  // World positions of the axis ends and the largest world radius: enough for shadows and bounds.
  Vec3 world_a() const { return origin; }
  Vec3 world_b() const { return origin + to_world * Vec3{0, shape.length(), 0}; }
  double world_radius = 0;
};

// Appends the parts of `body` in `pose`, dressed as `appearance`, to `parts` (cleared first; its
// capacity is reused between frames).
void build_body_parts(const Pose& pose, const BodyShape& body, const Appearance& appearance,
                      std::vector<BodyPart>& parts);

}  // namespace vg::synth
