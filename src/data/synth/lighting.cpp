// Random lights and their captions (see lighting.h).
#include "data/synth/lighting.h"

#include <numbers>

namespace vg::synth {

std::string Lighting::describe() const {
  const double warmth = tint.r - tint.b;
  const std::string colour = warmth > 0.08 ? "warm" : warmth < -0.08 ? "cool" : "neutral";
  const double level = intensity + ambient;
  const std::string strength = level < 0.95 ? "dim " : level > 1.35 ? "bright " : "";
  return strength + colour + " light";
}

Lighting random_lighting(RandomStream& random) {
  Lighting l;
  // Indoor key lights come from above, never from below the floor; any side of the performer.
  const double elevation = random.uniform(25, 80) * std::numbers::pi / 180;
  const double azimuth = random.uniform(0, 2 * std::numbers::pi);
  l.direction = {std::cos(elevation) * std::sin(azimuth), std::sin(elevation), std::cos(elevation) * std::cos(azimuth)};
  l.intensity = random.uniform(0.45, 0.95);
  l.ambient = random.uniform(0.28, 0.55);
  const double warmth = random.uniform(-1, 1);  // -1 cool daylight/LED, +1 warm tungsten
  l.tint = {1 + 0.09 * warmth, 1 + 0.01 * std::abs(warmth), 1 - 0.13 * warmth};
  return l;
}

ShadingLight::ShadingLight(const Lighting& lighting)
    : to_light(normalized(lighting.direction)),
      diffuse(lighting.tint * lighting.intensity),
      ambient(lighting.tint * lighting.ambient) {}

}  // namespace vg::synth
