// What the synthetic performer looks like: skin, hair, clothes and shoes, each colour with the
// name the captions use ("a red t-shirt and black shorts"), and seeded random draws of varied,
// plausible outfits. Colours are display-referred RGB in [0, 1].
#pragma once

#include <string>

#include "data/synth/random_stream.h"

namespace vg::synth {

struct Rgb {
  double r = 0, g = 0, b = 0;

  Rgb operator+(const Rgb& o) const { return {r + o.r, g + o.g, b + o.b}; }
  Rgb operator*(const Rgb& o) const { return {r * o.r, g * o.g, b * o.b}; }
  Rgb operator*(double s) const { return {r * s, g * s, b * s}; }
  bool operator==(const Rgb&) const = default;
};

inline Rgb mix(const Rgb& a, const Rgb& b, double t) { return a * (1 - t) + b * t; }
// Rec. 601 luma, for "is this colour dark" decisions.
inline double luma(const Rgb& c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; }
// A rough perceptual distance (redmean-weighted Euclidean), about 0..3.
double color_distance(const Rgb& a, const Rgb& b);

// A colour and the words that name it in a caption ("navy", "light grey").
struct NamedColor {
  Rgb rgb;
  std::string name;
};

// The palette clothes and rooms draw from; colour_named("red") etc. for tests and callers that
// want a fixed look. Throws a [synth] error for an unknown name.
NamedColor color_named(const std::string& name);

enum class HairStyle { Short, Long, Shaved };
enum class ShirtPattern { Plain, ChestStripe, Hoops };

struct Appearance {
  NamedColor skin{{0.86, 0.67, 0.53}, "medium"};
  NamedColor hair{{0.2, 0.12, 0.07}, "dark brown"};
  HairStyle hair_style = HairStyle::Short;
  NamedColor shirt{{0.8, 0.1, 0.1}, "red"};
  NamedColor sleeves{{0.8, 0.1, 0.1}, "red"};  // usually the shirt's colour; raglan/contrast sleeves otherwise
  NamedColor stripe{{0.92, 0.92, 0.9}, "white"};
  ShirtPattern pattern = ShirtPattern::Plain;
  bool long_sleeves = false;
  bool sleeveless = false;     // a tank top; ignored when long_sleeves
  double sleeve_length = 0.45;  // short sleeves: the fraction of the upper arm they cover
  NamedColor pants{{0.08, 0.08, 0.09}, "black"};
  bool long_pants = false;
  double shorts_length = 0.55;  // shorts: the fraction of the thigh they cover
  NamedColor socks{{0.92, 0.92, 0.9}, "white"};
  bool socks_visible = true;  // false: ankle socks hidden by the shoe, skin down to the shoe
  NamedColor shoes{{0.92, 0.92, 0.9}, "white"};
  NamedColor soles{{0.95, 0.95, 0.93}, "white"};

  // The outfit in caption words: "a red t-shirt with a white stripe, black shorts and white shoes".
  std::string describe() const;
  // "short dark brown hair", "long blonde hair", "a shaved head".
  std::string describe_hair() const;
};

Appearance random_appearance(RandomStream& random);

// A colour from `palette` names (see color_named) with a little brightness and hue jitter that
// keeps its name true.
NamedColor random_color(RandomStream& random, const std::vector<std::string>& palette);

}  // namespace vg::synth
