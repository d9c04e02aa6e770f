// The renderer's one solid: a rounded cone, the convex hull of two spheres (radius ra at the
// origin, rb at (0, length, 0)). Capsules (ra == rb), tapered limbs and, through an affine
// frame (body_geometry.h), ellipsoids and the elliptic torso are all rounded cones. Rays are
// intersected analytically: the two spheres and the cone tangent to both.
//
// Geometry of the tangent cone: in the (axial y, radial q) half-plane its line is
// y sin(phi) + q cos(phi) = ra with sin(phi) = (ra - rb) / length; it touches sphere a at
// y = ra sin(phi) and sphere b at y = length + rb sin(phi). Since the solid is convex, the ray's
// entry point is the nearest of the entries into the two spheres and into the cone's part between
// those tangent circles.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/synth/skeleton.h"

namespace vg::synth {

class RoundCone {
 public:
  RoundCone() = default;
  RoundCone(double length, double ra, double rb) : length_(length), ra_(ra), rb_(rb) {
    // One sphere inside the other: the hull is the larger sphere.
    if (length <= std::abs(ra - rb) + 1e-9) {
      spheres_only_ = true;
      b_is_the_sphere_ = rb > ra;
      return;
    }
    sin_phi_ = (ra - rb) / length;
    cos2_phi_ = 1 - sin_phi_ * sin_phi_;
    cos_phi_ = std::sqrt(cos2_phi_);
    y_low_ = ra * sin_phi_;
    y_high_ = length + rb * sin_phi_;
    bound_radius2_ = 0.5 * length + std::max(ra, rb);
    bound_radius2_ *= bound_radius2_;
  }

  double length() const { return length_; }
  double radius_a() const { return ra_; }
  double radius_b() const { return rb_; }

  // Per-ray-origin terms, computed once per part and frame.
  struct Origin {
    Vec3 o;
    double oo, ob_ob, om_om;  // |o|^2, |o - b|^2, |o - m|^2 with m = b / 2
  };
  Origin prepare(const Vec3& o) const {
    const double oo = dot(o, o);
    return {o, oo, oo - 2 * length_ * o.y + length_ * length_, oo - length_ * o.y + 0.25 * length_ * length_};
  }

  // Which surface a hit is on, for its normal.
  enum Piece : int { SphereA = 0, SphereB = 1, Cone = 2 };

  // The entry parameter t (> t_min) of the ray o + t d, or +infinity; `piece` gets the surface.
  double intersect(const Origin& origin, const Vec3& d, double t_min, int& piece) const {
    const Vec3& o = origin.o;
    const double dd = dot(d, d), od = dot(o, d), yd = d.y;
    double best = std::numeric_limits<double>::infinity();
    const double inv_dd = 1 / dd;
    if (spheres_only_) {
      const double bd = b_is_the_sphere_ ? od - length_ * yd : od;
      const double radius = b_is_the_sphere_ ? rb_ : ra_;
      const double c = (b_is_the_sphere_ ? origin.ob_ob : origin.oo) - radius * radius;
      const double disc = bd * bd - dd * c;
      if (disc >= 0) {
        const double t = (-bd - std::sqrt(disc)) * inv_dd;
        if (t > t_min) best = t, piece = b_is_the_sphere_ ? SphereB : SphereA;
      }
      return best;
    }
    {
      // Most rays of a part's screen box miss it: a bounding sphere about the middle rejects them.
      const double md = od - 0.5 * length_ * yd;
      if (md * md - dd * (origin.om_om - bound_radius2_) < 0) return best;
    }
    {
      const double disc = od * od - dd * (origin.oo - ra_ * ra_);
      if (disc >= 0) {
        const double t = (-od - std::sqrt(disc)) * inv_dd;
        if (t > t_min) best = t, piece = SphereA;
      }
    }
    {
      const double bd = od - length_ * yd;
      const double disc = bd * bd - dd * (origin.ob_ob - rb_ * rb_);
      if (disc >= 0) {
        const double t = (-bd - std::sqrt(disc)) * inv_dd;
        if (t > t_min && t < best) best = t, piece = SphereB;
      }
    }
    const double y0 = o.y, s = sin_phi_, k = cos2_phi_;
    const double a = k * dd - yd * yd;
    if (std::abs(a) > 1e-12 * dd) {
      const double rim = ra_ - y0 * s;
      const double half_b = k * (od - y0 * yd) + yd * s * rim;
      const double c = k * (origin.oo - y0 * y0) - rim * rim;
      const double disc = half_b * half_b - a * c;
      if (disc >= 0) {
        const double root = std::sqrt(disc);
        double t0 = (-half_b - root) / a, t1 = (-half_b + root) / a;
        if (t0 > t1) std::swap(t0, t1);
        for (const double t : {t0, t1}) {
          if (t <= t_min || t >= best) continue;
          const double y = y0 + t * yd;
          if (y >= y_low_ && y <= y_high_) {
            best = t, piece = Cone;
            break;
          }
        }
      }
    }
    return best;
  }

  // The outward unit normal at local point p on `piece`.
  Vec3 normal(const Vec3& p, int piece) const {
    if (piece == SphereA) return p / ra_;
    if (piece == SphereB) return (p - Vec3{0, length_, 0}) / rb_;
    const double q = std::sqrt(p.x * p.x + p.z * p.z);
    if (q <= 0) return {0, 1, 0};
    return {cos_phi_ * p.x / q, sin_phi_, cos_phi_ * p.z / q};
  }

 private:
  double length_ = 0, ra_ = 0, rb_ = 0;
  double sin_phi_ = 0, cos_phi_ = 1, cos2_phi_ = 1, y_low_ = 0, y_high_ = 0, bound_radius2_ = 0;
  bool spheres_only_ = false, b_is_the_sphere_ = false;
};

}  // namespace vg::synth
