// The synthetic scene's light: one distant light (a window, a ceiling panel) plus soft ambient
// light, with a colour tint, and the shading rule every surface uses (Lambert diffuse, hemisphere
// ambient, a touch of Blinn-Phong specular).
#pragma once

#include <cmath>
#include <string>

#include "data/synth/appearance.h"
#include "data/synth/random_stream.h"
#include "data/synth/skeleton.h"

namespace vg::synth {

struct Lighting {
  Vec3 direction{0.35, 1.0, 0.6};  // world frame, from the scene towards the light (normalised when used)
  double intensity = 0.8;          // diffuse light on a surface facing it, relative to white
  double ambient = 0.35;           // light reaching every surface, relative to white
  Rgb tint{1, 1, 1};               // colour of the light: warm (orange-ish) to cool (blue-ish)

  // "warm light", "cool dim light", ... for captions and debugging.
  std::string describe() const;
};

Lighting random_lighting(RandomStream& random);

// v / |v| with one division (the shared normalized() divides each component); v must not be 0.
inline Vec3 unit_vector(const Vec3& v) { return v * (1 / std::sqrt(dot(v, v))); }

// Lighting prepared for shading many surfaces: normalised direction, tint-scaled intensities.
struct ShadingLight {
  Vec3 to_light;
  Rgb diffuse, ambient;

  explicit ShadingLight(const Lighting& lighting);

  // Radiance of a surface of albedo `albedo` with unit normal `normal`, seen along `to_eye` (unit).
  // `exposure` (0..1) is how much of the direct light reaches it (cast shadows).
  Rgb shade(const Rgb& albedo, double specular, const Vec3& normal, const Vec3& to_eye, double exposure = 1) const {
    const double lambert = std::max(0.0, dot(normal, to_light)) * exposure;
    // Sky/ceiling light comes from above: surfaces facing down receive less of it.
    const double hemisphere = 0.75 + 0.25 * normal.y;
    Rgb out = albedo * (ambient * hemisphere + diffuse * lambert);
    if (specular > 0 && lambert > 0) {
      const Vec3 half = unit_vector(to_light + to_eye);
      double h = std::max(0.0, dot(normal, half));
      h *= h;
      h *= h;
      h *= h;
      h *= h;  // ^16: a broad, dull highlight (skin, cotton, rubber)
      out = out + diffuse * (specular * h * exposure);
    }
    return out;
  }
};

}  // namespace vg::synth
