// The performer's colours: the named palette, outfit captions and random outfits (see appearance.h).
#include "data/synth/appearance.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"

namespace vg::synth {
namespace {

struct PaletteEntry {
  const char* name;
  Rgb rgb;
};

// Names a caption writer would use for the colour at a glance; values picked to read as that
// name on a typical monitor.
constexpr std::array<PaletteEntry, 34> kPalette = {{
    {"black", {0.07, 0.07, 0.08}},
    {"dark grey", {0.24, 0.24, 0.26}},
    {"grey", {0.5, 0.5, 0.5}},
    {"light grey", {0.76, 0.76, 0.77}},
    {"white", {0.93, 0.93, 0.91}},
    {"red", {0.82, 0.1, 0.1}},
    {"maroon", {0.42, 0.06, 0.1}},
    {"orange", {0.96, 0.5, 0.1}},
    {"yellow", {0.95, 0.85, 0.15}},
    {"lime green", {0.55, 0.85, 0.2}},
    {"green", {0.14, 0.58, 0.24}},
    {"dark green", {0.08, 0.3, 0.15}},
    {"olive", {0.42, 0.43, 0.18}},
    {"teal", {0.05, 0.48, 0.5}},
    {"turquoise", {0.22, 0.76, 0.74}},
    {"light blue", {0.52, 0.72, 0.95}},
    {"blue", {0.14, 0.34, 0.84}},
    {"navy", {0.07, 0.11, 0.33}},
    {"purple", {0.45, 0.2, 0.65}},
    {"lavender", {0.72, 0.64, 0.9}},
    {"pink", {0.96, 0.55, 0.72}},
    {"magenta", {0.85, 0.14, 0.56}},
    {"beige", {0.86, 0.79, 0.64}},
    {"tan", {0.72, 0.58, 0.4}},
    {"brown", {0.44, 0.29, 0.17}},
    {"dark brown", {0.22, 0.13, 0.07}},
    {"blonde", {0.84, 0.7, 0.42}},
    {"auburn", {0.52, 0.22, 0.1}},
    {"cream", {0.95, 0.92, 0.82}},
    {"sage green", {0.6, 0.68, 0.55}},
    {"sky blue", {0.66, 0.8, 0.9}},
    {"terracotta", {0.76, 0.42, 0.3}},
    {"gum", {0.62, 0.45, 0.28}},  // the natural-rubber colour of shoe soles
    {"wood", {0.62, 0.44, 0.27}},
}};

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

std::string with_article(const std::string& phrase) {
  const bool vowel = !phrase.empty() && std::string("aeiou").find(phrase[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + phrase;
}

}  // namespace

double color_distance(const Rgb& a, const Rgb& b) {
  const double mean_r = 0.5 * (a.r + b.r), dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
  return std::sqrt((2 + mean_r) * dr * dr + 4 * dg * dg + (3 - mean_r) * db * db);
}

NamedColor color_named(const std::string& name) {
  for (const auto& entry : kPalette) {
    if (name == entry.name) return {entry.rgb, entry.name};
  }
  std::string known;
  for (const auto& entry : kPalette) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  VG_CHECK(false, "synth", "unknown colour '", name, "'; known colours: ", known);
  return {};
}

NamedColor random_color(RandomStream& random, const std::vector<std::string>& palette) {
  NamedColor c = color_named(random.pick(palette));
  // Dye lots and fabrics differ: a few percent of brightness and hue, never enough to rename.
  const double brightness = random.uniform(0.9, 1.08);
  c.rgb = {clamp01(c.rgb.r * brightness + random.uniform(-0.025, 0.025)),
           clamp01(c.rgb.g * brightness + random.uniform(-0.025, 0.025)),
           clamp01(c.rgb.b * brightness + random.uniform(-0.025, 0.025))};
  return c;
}

std::string Appearance::describe() const {
  std::string top;
  if (long_sleeves) {
    top = shirt.name + " long-sleeved shirt";
  } else if (sleeveless) {
    top = shirt.name + " tank top";
  } else {
    top = shirt.name + " t-shirt";
  }
  if (pattern == ShirtPattern::Hoops) top = shirt.name + " and " + stripe.name + " striped " + top.substr(shirt.name.size() + 1);
  top = with_article(top);
  std::vector<std::string> details;
  if (pattern == ShirtPattern::ChestStripe) details.push_back(with_article(stripe.name + " stripe"));
  if ((long_sleeves || !sleeveless) && sleeves.name != shirt.name) details.push_back(sleeves.name + " sleeves");
  for (size_t i = 0; i < details.size(); ++i) top += (i == 0 ? " with " : " and ") + details[i];
  const std::string bottom = pants.name + (long_pants ? " long pants" : " shorts");
  return top + ", " + bottom + " and " + shoes.name + " shoes";
}

std::string Appearance::describe_hair() const {
  switch (hair_style) {
    case HairStyle::Short: return "short " + hair.name + " hair";
    case HairStyle::Long: return "long " + hair.name + " hair";
    case HairStyle::Shaved: return "a shaved head";
  }
  return "";
}

Appearance random_appearance(RandomStream& random) {
  Appearance a;
  // Skin: a continuum from very light to very dark; the name only marks the broad range.
  static constexpr std::array<Rgb, 6> kSkin = {
      {{0.98, 0.84, 0.74}, {0.92, 0.73, 0.6}, {0.8, 0.6, 0.45}, {0.64, 0.45, 0.31}, {0.46, 0.31, 0.21}, {0.3, 0.2, 0.14}}};
  const double tone = random.uniform(0, kSkin.size() - 1.0);
  const auto lo = static_cast<size_t>(tone);
  a.skin.rgb = mix(kSkin[lo], kSkin[std::min(lo + 1, kSkin.size() - 1)], tone - static_cast<double>(lo));
  a.skin.name = tone < 1.5 ? "light" : tone < 3.2 ? "medium" : "dark";

  a.hair = random_color(random, {"black", "black", "dark brown", "dark brown", "brown", "blonde", "auburn", "grey"});
  const double style = random.uniform();
  a.hair_style = style < 0.55 ? HairStyle::Short : style < 0.93 ? HairStyle::Long : HairStyle::Shaved;

  const std::vector<std::string> tops = {"black", "dark grey", "grey", "light grey", "white", "white", "red",
                                         "maroon", "orange", "yellow", "lime green", "green", "dark green",
                                         "teal", "turquoise", "light blue", "blue", "navy", "purple",
                                         "lavender", "pink", "magenta", "beige", "olive", "terracotta"};
  a.shirt = random_color(random, tops);
  a.long_sleeves = random.chance(0.3);
  a.sleeveless = !a.long_sleeves && random.chance(0.2);
  a.sleeve_length = random.uniform(0.3, 0.6);
  a.sleeves = a.shirt;
  if (!a.sleeveless && random.chance(0.12)) a.sleeves = random_color(random, tops);
  const double pattern = random.uniform();
  a.pattern = pattern < 0.75 ? ShirtPattern::Plain : pattern < 0.9 ? ShirtPattern::ChestStripe : ShirtPattern::Hoops;
  // The stripe must differ visibly from the shirt, or the caption would name an invisible pattern.
  for (int attempt = 0; attempt < 8; ++attempt) {
    a.stripe = random_color(random, {"white", "black", "red", "yellow", "blue", "navy", "grey", "orange", "light blue"});
    if (color_distance(a.stripe.rgb, a.shirt.rgb) > 0.6 && a.stripe.name != a.shirt.name) break;
  }
  if (color_distance(a.stripe.rgb, a.shirt.rgb) <= 0.6 || a.stripe.name == a.shirt.name) a.pattern = ShirtPattern::Plain;

  const std::vector<std::string> bottoms = {"black", "black", "black", "dark grey", "grey", "navy", "navy", "blue",
                                            "dark green", "maroon", "beige", "light grey", "white", "purple",
                                            "red", "pink", "olive", "brown"};
  // Shirt and pants of one colour happen, but rarely: mostly the waistband shows.
  for (int attempt = 0; attempt < 4; ++attempt) {
    a.pants = random_color(random, bottoms);
    if (a.pants.name != a.shirt.name || random.chance(0.1)) break;
  }
  a.long_pants = random.chance(0.45);
  a.shorts_length = random.uniform(0.35, 0.85);

  a.socks = random_color(random, {"white", "white", "black", "grey"});
  a.socks_visible = random.chance(0.7);
  a.shoes = random_color(random, {"white", "white", "white", "black", "black", "grey", "red", "blue", "navy",
                                  "lime green", "orange", "pink", "light grey"});
  a.soles = random_color(random, {"white", "white", "black", "gum", "light grey"});
  return a;
}

}  // namespace vg::synth
